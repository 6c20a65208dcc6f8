"""Validates every signal and alert the golden tests produce against
config/schemas/alert.v1.schema.json (JSON Schema 2020-12).

Usage: validate_outputs.py CORRIDOR_BIN SCHEMA GOLDEN_FILE...
Fails when any output is invalid, or when the files produce no signal or no alert at all
(so the check cannot pass vacuously). Beyond the schema: a signal's window.length_ms is its
end minus its start.
"""
import datetime
import json
import subprocess
import sys

import jsonschema


def millis(text):
    moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return round(moment.timestamp() * 1000)


def main():
    binary, schema_path, *files = sys.argv[1:]
    with open(schema_path) as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    run = subprocess.run([binary, "test-rules", "--print-outputs", *files],
                         capture_output=True, text=True, timeout=600)
    if run.returncode not in (0, 1):
        print(run.stderr, file=sys.stderr)
        return 1
    counts = {"signal": 0, "alert": 0}
    bad = 0
    for number, line in enumerate(run.stdout.splitlines(), 1):
        document = json.loads(line)
        errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
        for error in errors:
            bad += 1
            print(f"output {number}: {'/'.join(map(str, error.path))}: {error.message}",
                  file=sys.stderr)
        if document["data"]["kind"] == "signal":
            window = document["data"]["window"]
            span = millis(window["end"]) - millis(window["start"])
            if window["length_ms"] != span:
                bad += 1
                print(f"output {number}: window/length_ms: {window['length_ms']}, "
                      f"but end - start is {span}", file=sys.stderr)
        counts[document["data"]["kind"]] += 1
    print(f"{counts['signal']} signals and {counts['alert']} alerts checked, {bad} errors")
    if counts["signal"] == 0 or counts["alert"] == 0:
        print("no signal or no alert was produced: nothing was validated", file=sys.stderr)
        return 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
