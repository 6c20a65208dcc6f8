"""End-to-end tests: the corridor binary run as a user runs it.

CORRIDOR_BIN names the binary, CORRIDOR_SOURCE_DIR the checkout (ctest sets both).
"""
import gzip
import json
import os
import pathlib
import re
import subprocess
import tarfile
import tempfile
import time
import unittest

BIN = os.environ.get("CORRIDOR_BIN", "build/corridor")
SRC = pathlib.Path(os.environ.get("CORRIDOR_SOURCE_DIR", pathlib.Path(__file__).parents[2]))
SAMPLE = SRC / "config/examples/data/sample-events.ndjson"
AMLSIM = SRC.parent / "shared/data/amlsim-20K_cycle200.tgz"

RATES = """
currency:
  base: USD
  rates: {EUR: "1.08", MYR: "0.2245", BDT: "0.0083"}
"""


def run(*args, stdin=None, env=None):
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([BIN, *args], input=stdin, capture_output=True, timeout=300,
                          env=full_env)


def lines(path):
    return [json.loads(l) for l in pathlib.Path(path).read_text().splitlines()]


def synthetic_example(workdir, source):
    """config/examples/synthetic.yaml (its rates, packs and lateness) with `source` as its
    only source and its outputs in `workdir`."""
    body = (SRC / "config/examples/synthetic.yaml").read_text()
    start = body.index("sources:\n")
    end = body.index("\n\n", start)
    body = body[:start] + "sources:\n  - " + source + body[end:]
    for name in ("alerts", "signals"):
        body = body.replace(f"/tmp/corridor-world-{name}.ndjson", str(workdir / f"{name}.ndjson"))
    return body.replace("../../rules/packs/", str(SRC / "rules/packs") + "/")


class Workdir(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.dir = pathlib.Path(self._tmp.name)

    def tearDown(self):
        self._tmp.cleanup()

    def config(self, body, name="corridor.yaml"):
        path = self.dir / name
        path.write_text(body)
        return path

    def file_run_config(self, source_path, extra=""):
        return self.config(f"""version: 1
sources:
  - {{name: input, type: file, path: {source_path}}}
sinks:
  events: {{type: file, path: events.ndjson}}
  dead_letter: {{type: file, path: dead.ndjson}}
{RATES}
{extra}
""")


class RunOnFiles(Workdir):
    def test_sample_is_decoded_and_dead_lettered_with_reasons(self):
        cfg = self.file_run_config(SAMPLE)
        r = run("run", "--config", str(cfg))
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertEqual(r.stdout, b"", "data goes to the configured sinks, not stdout")
        events = lines(self.dir / "events.ndjson")
        dead = lines(self.dir / "dead.ndjson")
        self.assertEqual([e["id"] for e in events],
                         ["tx-0001", "tx-0002", "tx-0003", "tx-0004", "tx-0005", "tx-0006",
                          "tx-0011", "tx-0014"])
        self.assertEqual([(d["line"], d["reason"]) for d in dead],
                         [(7, "bad_value"), (8, "malformed_json"), (9, "bad_timestamp"),
                          (10, "bad_value"), (12, "late"), (13, "missing_field")])
        # Dead letters keep the original bytes exactly.
        originals = SAMPLE.read_text().splitlines()
        for d in dead:
            self.assertEqual(d["original"], originals[d["line"] - 1])
        # Exact money: 1200 MYR at 0.2245 and 25.5 EUR at 1.08.
        by_id = {e["id"]: e for e in events}
        self.assertEqual(by_id["tx-0004"]["amount_base"], "269.4")
        self.assertEqual(by_id["tx-0014"]["amount_base"], "27.54")
        self.assertEqual(by_id["tx-0003"]["ts"], "2026-03-02T09:05:40.000Z")
        self.assertIn(b"read 14 records: 8 decoded, 6 dead-lettered", r.stderr)

    def test_gzip_input_gives_the_same_output(self):
        gz = self.dir / "sample.ndjson.gz"
        gz.write_bytes(gzip.compress(SAMPLE.read_bytes()))
        plain = self.file_run_config(SAMPLE)
        self.assertEqual(run("run", "--config", str(plain)).returncode, 0)
        expected = (self.dir / "events.ndjson").read_bytes()
        zipped = self.file_run_config(gz)
        r = run("run", "--config", str(zipped))
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertEqual((self.dir / "events.ndjson").read_bytes(), expected)

    def test_stdin_to_stdout(self):
        cfg = self.config(f"""version: 1
sources: [{{name: in, type: stdin}}]
sinks:
  events: {{type: stdout}}
  dead_letter: {{type: stderr}}
{RATES}""")
        r = run("run", "--config", str(cfg), stdin=SAMPLE.read_bytes())
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        out = [json.loads(l) for l in r.stdout.decode().splitlines()]
        self.assertEqual(len(out), 8)
        self.assertTrue(all(set(e) >= {"id", "ts", "kind", "amount", "currency", "amount_base"}
                            for e in out))

    def start_on_stdin(self, data):
        """corridor run from stdin to events.ndjson, started with `data` written to its
        stdin, which stays open."""
        cfg = self.config(f"""version: 1
sources: [{{name: in, type: stdin}}]
sinks:
  events: {{type: file, path: events.ndjson}}
  dead_letter: {{type: file, path: dead.ndjson}}
{RATES}""")
        p = subprocess.Popen([BIN, "run", "--config", str(cfg)], stdin=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        p.stdin.write(data)
        p.stdin.flush()
        return p

    def test_a_stop_signal_ends_a_run_waiting_on_stdin(self):
        # stdin stays open and silent: SIGTERM must not wait for input that never comes.
        p = self.start_on_stdin(SAMPLE.read_bytes())
        try:
            # The config line comes before any input is read, with the handlers in place.
            self.assertIn(b"corridor: config", p.stderr.readline())
            p.send_signal(15)
            err = p.stderr.read()
            self.assertEqual(p.wait(timeout=10), 130, err.decode())
        finally:
            p.kill()
            p.wait()
            p.stdin.close()
            p.stderr.close()
        self.assertIn(b"stopped by SIGTERM", err)
        self.assertRegex(err, rb"read (\d+) records")

    def test_stdin_is_a_live_feed(self):
        # Events written to stdin come out while the writer keeps it open: nothing waits for a
        # buffer to fill or for the input to end.
        p = self.start_on_stdin(SAMPLE.read_bytes())
        try:
            events = self.dir / "events.ndjson"
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                if events.exists() and len(events.read_text().splitlines()) == 8:
                    break
                time.sleep(0.05)
            self.assertEqual(len(events.read_text().splitlines()), 8)
            self.assertIsNone(p.poll())  # still running: stdin is open
            p.stdin.close()
            self.assertEqual(p.wait(timeout=10), 0)
        finally:
            p.kill()
            p.wait()
            p.stderr.close()

    def test_a_reader_that_goes_away_is_an_output_error_with_the_summary(self):
        cfg = self.config(f"""version: 1
sources: [{{name: in, type: file, path: {SAMPLE}}}]
sinks:
  events: {{type: stdout}}
  dead_letter: {{type: file, path: dead.ndjson}}
{RATES}""")
        reader_gone = subprocess.Popen([BIN, "run", "--config", str(cfg)],
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        reader_gone.stdout.close()
        err = reader_gone.stderr.read()
        reader_gone.stderr.close()
        self.assertEqual(reader_gone.wait(timeout=60), 1, err.decode())
        self.assertIn(b"cannot write stdout: Broken pipe", err)
        self.assertIn(b"corridor: read ", err)

    def test_max_records_stops_early(self):
        cfg = self.file_run_config(SAMPLE)
        r = run("run", "--config", str(cfg), "--max-records", "3")
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertEqual(len(lines(self.dir / "events.ndjson")), 3)
        self.assertIn(b"read 3 records", r.stderr)

    def test_example_config_runs(self):
        r = run("run", "--config", str(SRC / "config/examples/replay.yaml"))
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertEqual(len(r.stdout.decode().splitlines()), 8)


class Errors(Workdir):
    def test_config_error_names_file_line_col_and_reads_nothing(self):
        cfg = self.config(f"""version: 1
sources:
  - {{name: input, type: file, path: {SAMPLE}, colour: blue}}
sinks:
  events: {{type: file, path: events.ndjson}}
  dead_letter: {{type: file, path: dead.ndjson}}
time: {{allowed_lateness: soon}}
""")
        r = run("run", "--config", str(cfg))
        self.assertEqual(r.returncode, 3)
        err = r.stderr.decode()
        self.assertIn(f"{cfg}:3:", err)
        self.assertIn("unknown key 'colour'", err)
        self.assertIn(f"{cfg}:7:", err)
        self.assertIn("time.allowed_lateness: expected a duration", err)
        self.assertFalse((self.dir / "events.ndjson").exists(), "nothing may run on a bad config")

    def test_missing_input_file_fails_before_reading(self):
        cfg = self.file_run_config(self.dir / "nope.ndjson")
        r = run("run", "--config", str(cfg))
        self.assertEqual(r.returncode, 3)
        self.assertIn(b"nope.ndjson", r.stderr)
        # A folder is not an input either, and is found before anything is read.
        r = run("run", "--config", str(self.file_run_config(self.dir)))
        self.assertEqual(r.returncode, 3, r.stderr.decode())
        self.assertIn(b"it is a directory", r.stderr)
        # --max-records counts records: at least one.
        for bad in ("0", "-1", "ten"):
            r = run("run", "--config", str(self.file_run_config(SAMPLE)), "--max-records", bad)
            self.assertEqual(r.returncode, 2, bad)
            self.assertIn(b"expected a whole number of records, at least 1", r.stderr)

    def test_validate_exit_codes(self):
        good = self.file_run_config(SAMPLE)
        bad = self.config("version: 2\n", name="bad.yaml")
        ok = run("validate", str(good))
        self.assertEqual(ok.returncode, 0, ok.stderr.decode())
        self.assertIn(b": ok (hash ", ok.stdout)
        r = run("validate", str(good), str(bad))
        self.assertEqual(r.returncode, 3)
        self.assertIn(f"{bad}:1:".encode(), r.stderr)
        # A file whose top level is not a mapping: the three kinds of file are named, unless
        # its name says which it is meant to be.
        empty = self.config("", name="empty.yaml")
        listed = self.config("- a\n", name="listed.yaml")
        pack = self.config("- a\n", name="listed.pack.yaml")
        r = run("validate", str(empty), str(listed), str(pack))
        self.assertEqual(r.returncode, 3)
        err = r.stderr.decode()
        self.assertIn(f"{empty}:1:1: error: expected a mapping: an engine config (version, "
                      "sources, sinks, ...), a rule pack (pack, rules, typologies, ...) or golden "
                      "tests (packs, cases); the file holds nothing", err)
        self.assertIn(f"{listed}:1:1: error: expected a mapping: an engine config", err)
        self.assertIn("the file holds a sequence", err)
        self.assertIn(f"{pack}:1:1: error: rule pack: expected a mapping with keys pack,", err)
        self.assertIn("corridor: 3 of 3 file(s) invalid", err)

    def test_usage_errors_and_help(self):
        self.assertEqual(run("frobnicate").returncode, 2)
        self.assertEqual(run().returncode, 2)
        self.assertEqual(run("run").returncode, 2)
        for cmd in ([], ["run"], ["validate"], ["version"]):
            r = run(*cmd, "--help")
            self.assertEqual(r.returncode, 0, cmd)
            self.assertIn(b"Usage", r.stdout)

    def test_version(self):
        r = run("version")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout.decode(), r"^corridor \d+\.\d+\.\d+ \(commit ")


class RulesRun(Workdir):
    def test_demo_config_prints_one_alert_on_stdout(self):
        r = run("run", "--config", str(SRC / "config/examples/rules-demo.yaml"))
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        alerts = [json.loads(l) for l in r.stdout.decode().splitlines()]
        self.assertEqual(len(alerts), 1)
        alert = alerts[0]
        self.assertEqual(alert["type"], "org.corridor.alert.v1")
        self.assertEqual(alert["subject"], "R-1042")
        self.assertEqual([s["rule"] for s in alert["data"]["signals"]],
                         ["example.fan_in_unrelated_senders", "example.senders_at_one_agent"])
        self.assertIn(b"5 signals, 1 alerts", r.stderr)

    def test_shipped_packs_demo_alerts_on_both_typologies(self):
        # The README's first command: the shipped packs over the sample files.
        r = run("run", "--config", str(SRC / "config/examples/packs-demo.yaml"))
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        alerts = [json.loads(l) for l in r.stdout.decode().splitlines()]
        self.assertEqual([(a["data"]["typology"]["id"], a["subject"]) for a in alerts],
                         [("smuggling_fee", "R-1042"), ("debt_bondage", "W-5531")])
        self.assertEqual([s["rule"] for s in alerts[0]["data"]["signals"]],
                         ["sf.r1_fan_in", "sf.r14_senders_at_one_agent"])
        self.assertEqual(sorted(s["rule"] for s in alerts[1]["data"]["signals"]),
                         ["db.r11_wage_paid_back", "db.r13_nothing_kept", "db.r7_salary_sweep"])
        self.assertIn(b"read 34 records: 28 decoded, 6 dead-lettered", r.stderr)
        self.assertIn(b"10 signals, 2 alerts", r.stderr)

    def test_validate_and_test_rules_exit_codes(self):
        pack = SRC / "config/examples/rules/example.pack.yaml"
        ok = run("validate", str(pack), str(SRC / "config/examples/rules-demo.yaml"))
        self.assertEqual(ok.returncode, 0, ok.stderr.decode())
        self.assertIn(b"example.pack.yaml: ok, 3 rules, 1 typology", ok.stdout)
        broken = self.config(pack.read_text().replace("senders >= 5", "senderz >= 5"),
                             name="broken.yaml")
        bad = run("validate", str(broken))
        self.assertEqual(bad.returncode, 3)
        self.assertRegex(bad.stderr.decode(), rf"{broken}:\d+:\d+: error: rule "
                                              r"example.fan_in_unrelated_senders.when: unknown name 'senderz'")
        golden = run("validate", str(SRC / "rules/packs/smuggling_fee.test.yaml"))
        self.assertEqual(golden.returncode, 0, golden.stderr.decode())
        self.assertIn(b"smuggling_fee.test.yaml: golden tests; their 1 pack(s) ok", golden.stdout)
        # A golden file's table replacement is checked too: a misspelt table name fails.
        replaced = self.config(
            f"packs: [{SRC / 'rules/packs/debt_bondage.yaml'}]\n"
            "tables: {minimum_wag: wages.csv}\ncases: []\n", name="wages.test.yaml")
        bad_table = run("validate", str(replaced))
        self.assertEqual(bad_table.returncode, 3)
        self.assertIn(b"replaces table 'minimum_wag', which no pack of the load declares",
                      bad_table.stderr)
        passing = run("test-rules", str(SRC / "tests/golden/fan_in.test.yaml"))
        self.assertEqual(passing.returncode, 0, passing.stderr.decode())
        # An invalid file beside it: both counts in the summary, and the exit code of the worse.
        mixed = run("test-rules", str(SRC / "tests/golden/fan_in.test.yaml"), str(replaced))
        self.assertEqual(mixed.returncode, 3)
        self.assertIn(b"corridor: 3 of 3 golden cases passed; 1 test file(s) invalid",
                      mixed.stderr)
        failing_text = (SRC / "tests/golden/fan_in.test.yaml").read_text().replace(
            'trigger: e5', 'trigger: e4', 1)
        self.config((SRC / "tests/golden/fan_in.pack.yaml").read_text(), name="fan_in.pack.yaml")
        failing = self.config(failing_text, name="fan_in.test.yaml")
        r = run("test-rules", str(failing))
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"trigger is 'e5', expected 'e4'", r.stderr)

    def test_config_and_pack_errors_come_out_in_one_run(self):
        pack = SRC / "config/examples/rules/example.pack.yaml"
        self.config(pack.read_text().replace("senders >= 5", "senderz >= 5"), name="broken.yaml")
        cfg = self.file_run_config(SAMPLE, extra="rules:\n  packs: [broken.yaml, missing.yaml]\n"
                                                  "  max_windw: 30d\n")
        for args in (["validate", str(cfg)], ["run", "--config", str(cfg)]):
            r = run(*args)
            self.assertEqual(r.returncode, 3, args)
            err = r.stderr.decode()
            # The config's own error, the missing pack where the config names it, and the
            # broken pack's error, all in the same run.
            self.assertRegex(err, rf"{cfg}:\d+:3: error: rules: unknown key 'max_windw'")
            self.assertRegex(err, rf"{cfg}:\d+:24: error: rules.packs\[1\]: cannot read the "
                                  r"rule pack .*missing.yaml: No such file or directory")
            self.assertRegex(err, r"broken.yaml:\d+:\d+: error: rule "
                                  r"example.fan_in_unrelated_senders.when: unknown name 'senderz'")
        self.assertFalse((self.dir / "events.ndjson").exists())  # run read nothing

    def synthetic_events(self, n, seed):
        """A seeded stream with fan-in, structuring and noise; event times move forward with
        some disorder inside the allowed lateness."""
        import random
        rnd = random.Random(seed)
        cities = ["Dhaka", "Sylhet", "Khulna", "Chittagong", "Rajshahi"]
        agents = [f"AG-{i}" for i in range(6)]
        t = 1_772_323_200_000  # 2026-03-01
        lines = []
        for i in range(n):
            t += rnd.randint(0, 20 * 60_000)
            ts = t - rnd.randint(0, 30 * 60_000)
            amount = rnd.choice(["450", "2500", "2999.99", "3000", "120", "2400"])
            lines.append(json.dumps({
                "id": f"ev-{i}", "ts": ts, "kind": rnd.choice(["remittance", "transfer"]),
                "amount": amount, "currency": "USD", "agent": rnd.choice(agents),
                "sender": {"id": f"S{rnd.randint(0, 40)}", "city": rnd.choice(cities)},
                "receiver": {"id": f"R{rnd.randint(0, 5)}"}}))
        return "\n".join(lines) + "\n"

    def run_with_batch(self, data, batch):
        out = self.dir / f"b{batch}"
        out.mkdir()
        (out / "in.ndjson").write_text(data)
        cfg = out / "c.yaml"
        cfg.write_text(f"""version: 1
sources: [{{name: in, type: file, path: in.ndjson}}]
sinks:
  signals: {{type: file, path: signals.ndjson}}
  alerts: {{type: file, path: alerts.ndjson}}
  dead_letter: {{type: file, path: dead.ndjson}}
rules: {{packs: [{SRC / 'config/examples/rules/example.pack.yaml'}]}}
pipeline: {{batch_size: {batch}}}
time: {{allowed_lateness: 1h}}
""")
        r = run("run", "--config", str(cfg))
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        # Byte for byte, config_hash included: the batch size is not an outputs setting.
        return ((out / "signals.ndjson").read_bytes(), (out / "alerts.ndjson").read_bytes())

    def test_outputs_are_byte_identical_whatever_the_batch_size(self):
        data = self.synthetic_events(4000, seed=7)
        reference = self.run_with_batch(data, 4096)
        signals, alerts = reference
        self.assertGreater(signals.count(b"\n"), 10, "the stream must exercise the rules")
        self.assertGreater(alerts.count(b"\n"), 0, "the stream must raise alerts")
        for batch in (1, 7, 333):
            self.assertEqual(self.run_with_batch(data, batch), reference, f"batch size {batch}")


@unittest.skipUnless(AMLSIM.exists(), f"{AMLSIM} not present")
class AmlsimImport(Workdir):
    def test_transactions_csv_through_the_documented_mapping(self):
        with tarfile.open(AMLSIM) as tar:
            member = next(m for m in tar.getmembers() if m.name.endswith("transactions.csv"))
            csv_path = self.dir / "transactions.csv"
            csv_path.write_bytes(tar.extractfile(member).read())
        rows = len(csv_path.read_text().splitlines()) - 1
        env = {"AMLSIM_TRANSACTIONS": str(csv_path)}
        cfg = SRC / "config/examples/amlsim.yaml"
        out = self.dir / "out"
        out.mkdir()
        r = subprocess.run([BIN, "run", "--config", str(cfg)], capture_output=True,
                           env={**os.environ, **env}, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertIn(f"read {rows} records: {rows} decoded, 0 dead-lettered".encode(), r.stderr)
        first = json.loads(r.stdout.decode().splitlines()[0])
        self.assertEqual(first["id"], "amlsim-2")
        self.assertEqual(first["kind"], "transfer")
        self.assertEqual(first["sender"]["id"], "280")
        self.assertEqual(first["receiver"]["id"], "15349")
        self.assertEqual(first["amount"], "147.8")
        self.assertEqual(first["ts"], "2024-01-02T00:00:00.000Z")


class Gen(Workdir):
    """corridor gen: the synthetic world as NDJSON events and a truth file."""

    def gen(self, *args, name="world"):
        events, truth = self.dir / f"{name}.ndjson", self.dir / f"{name}.truth.ndjson"
        r = run("gen", *args, "--out", str(events), "--truth", str(truth))
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertEqual(r.stdout, b"", "data goes to the files, not stdout")
        return events, truth, r

    def test_same_seed_same_bytes_and_the_engine_decodes_every_event(self):
        a, ta, r = self.gen("--seed", "42", "--entities", "2000", "--days", "45", name="a")
        b, tb, _ = self.gen("--seed", "42", "--entities", "2000", "--days", "45", name="b")
        c, _, _ = self.gen("--seed", "43", "--entities", "2000", "--days", "45", name="c")
        self.assertEqual(a.read_bytes(), b.read_bytes())
        self.assertEqual(ta.read_bytes(), tb.read_bytes())
        self.assertNotEqual(a.read_bytes(), c.read_bytes())
        events = a.read_text().splitlines()
        self.assertIn(f"{len(events)} events".encode(), r.stderr)

        # The shipped example config's rates convert every currency the world uses.
        cfg = self.config(synthetic_example(self.dir, f"{{name: world, type: file, path: {a}}}"))
        r = run("run", "--config", str(cfg))
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertIn(f"read {len(events)} records: {len(events)} decoded, 0 dead-lettered"
                      .encode(), r.stderr)

        # Truth: one scenario instance a line; its label is on exactly its events.
        truth = lines(ta)
        self.assertTrue(truth)
        labelled = {}
        for line in events:
            e = json.loads(line)
            labelled.setdefault(e["labels"]["scenario"], []).append(e)
        for t in truth:
            self.assertIn(t["variant"], ("fire", "near_miss", "lookalike"))
            self.assertEqual(t["expect_signal"], t["variant"] == "fire")
            self.assertEqual(t["expect_alert"], t["variant"] == "fire" and "+" in t["pattern"])
            self.assertEqual(len(labelled.get(t["scenario"], [])), t["events"], t["scenario"])
            self.assertEqual(t["subject"], t["entities"][0]["id"])
        self.assertGreater(len(labelled["background"]), 0.9 * len(events))
        # The shipped packs signal on each subject with exactly the rules of its
        # expect_patterns: a fire's pattern (every part of a combined one), a combined near
        # miss's parts but one, and patterns met on the way (R6 on a collector paid round
        # fees in a fee band); a single pattern's near miss adds none. A look-alike lists
        # the single rules it legitimately trips on its subject (R8 on a hostel paid equal
        # rents after payday, R1 on an agency's new customers from several districts).
        self.assertLessEqual({"R7+R11", "R1+R14", "R3+R4+R6", "R8+R4+R14"},
                             {t["pattern"] for t in truth})
        signalled = {(json.loads(l)["data"]["rule"]["pattern"], json.loads(l)["subject"])
                     for l in (self.dir / "signals.ndjson").read_text().splitlines()}
        on_subject = {}
        for pattern, subject in signalled:
            on_subject.setdefault(subject, set()).add(pattern)
        for t in truth:
            parts = t["pattern"].split("+")
            expected = set(t["expect_patterns"])
            self.assertEqual(len(expected), len(t["expect_patterns"]), t["scenario"])
            listed = len(expected & set(parts))
            if t["variant"] == "fire":
                self.assertEqual(listed, len(parts), t["scenario"])
            elif t["variant"] == "near_miss":
                self.assertEqual(listed, len(parts) - 1, t["scenario"])
            else:
                self.assertLessEqual(expected, {"R1", "R6", "R8", "R12", "R14"}, t["scenario"])
            self.assertEqual(on_subject.get(t["subject"], set()), expected,
                             f"{t['scenario']} ({t['note']})")
        # Alerts: on exactly the combined fire instances' subjects, of their typology.
        alerted = {(a["data"]["typology"]["id"], a["subject"])
                   for a in lines(self.dir / "alerts.ndjson")}
        expected = {(t["typology"], t["subject"]) for t in truth if t["expect_alert"]}
        self.assertTrue(expected)
        self.assertEqual(alerted, expected)
        # A benign look-alike draws no signal on any of its parties but its subject, and
        # there only those of its expect_patterns (checked above); no alert on any of them.
        touched = {subject for _, subject in signalled}
        lookalikes = [t for t in truth if t["variant"] == "lookalike"]
        self.assertTrue(lookalikes)
        for t in lookalikes:
            for e in t["entities"][1:]:
                self.assertNotIn(e["id"], touched, f"{t['scenario']}: {e['role']}")
            self.assertNotIn(t["subject"], {subject for _, subject in alerted}, t["scenario"])

    def test_scenarios_can_be_chosen_or_left_out(self):
        _, truth, _ = self.gen("--entities", "500", "--days", "40", "--scenarios", "R7,R11")
        self.assertEqual({t["pattern"] for t in lines(truth)}, {"R7", "R11"})
        events, truth, _ = self.gen("--entities", "500", "--days", "40", "--no-scenarios",
                                    name="plain")
        self.assertEqual(truth.read_text(), "")
        self.assertEqual({json.loads(l)["labels"]["scenario"]
                          for l in events.read_text().splitlines()}, {"background"})

    def test_stdout_and_errors(self):
        r = run("gen", "--entities", "200", "--days", "3", "--no-scenarios")
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        first = json.loads(r.stdout.decode().splitlines()[0])
        self.assertEqual(first["labels"], {"scenario": "background", "role": first["labels"]["role"]})
        self.assertEqual(run("gen", "--days", "0").returncode, 2)
        self.assertEqual(run("gen", "--entities", "x").returncode, 2)
        r = run("gen", "--scenarios", "R99", "--entities", "100", "--days", "2")
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"unknown scenario 'R99'", r.stderr)
        self.assertEqual(run("gen", "--start", "yesterday").returncode, 2)
        self.assertEqual(run("gen", "--out", "-", "--truth", "-").returncode, 2)
        r = run("gen", "--entities", "100", "--days", "2", "--out",
                str(self.dir / "missing" / "x.ndjson"))
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"cannot create", r.stderr)
        self.assertEqual(run("gen", "--help").returncode, 0)


class SyntheticSource(Workdir):
    """A `type: synthetic` source: the world read by the engine without a file between."""

    PARAMS = {"seed": "7", "entities": "5000", "days": "20"}

    def run_example(self, source, name):
        out = self.dir / name
        out.mkdir()
        cfg = self.config(synthetic_example(out, source), name=f"{name}.yaml")
        r = run("run", "--config", str(cfg))
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        return lines(out / "signals.ndjson"), lines(out / "alerts.ndjson"), r.stderr.decode()

    def test_same_signals_alerts_and_truth_as_gen_then_run_on_the_file(self):
        events, truth = self.dir / "world.ndjson", self.dir / "world.truth.ndjson"
        args = [a for k, v in self.PARAMS.items() for a in (f"--{k}", v)]
        r = run("gen", *args, "--out", str(events), "--truth", str(truth))
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        n = len(events.read_bytes().splitlines())

        from_file = self.run_example(f"{{name: world, type: file, path: {events}}}", "file")
        keys = ", ".join(f"{k}: {v}" for k, v in self.PARAMS.items())
        source_truth = self.dir / "source.truth.ndjson"
        direct = self.run_example(
            f"{{name: world, type: synthetic, {keys}, truth: {source_truth}}}", "direct")

        for got in (from_file, direct):
            self.assertIn(f"read {n} records: {n} decoded, 0 dead-lettered", got[2])
        signals, alerts = direct[0], direct[1]
        self.assertTrue(signals)
        self.assertTrue(alerts)
        # The same outputs, in the same order, triggered at the same line and offset (the
        # config hash in them differs, as the configs do).
        for a, b in ((from_file[0], signals), (from_file[1], alerts)):
            self.assertEqual([x["id"] for x in a], [x["id"] for x in b])
            self.assertEqual([x["data"]["trigger"] for x in a], [x["data"]["trigger"] for x in b])
        print(f"\n  synthetic source, {keys}: {n} events, {len(signals)} signals, "
              f"{len(alerts)} alerts", end=" ")
        # The truth file: gen's bytes, written when the world ended.
        self.assertEqual(source_truth.read_bytes(), truth.read_bytes())
        self.assertIn(f"truth of {len(lines(truth))} scenario instances written to "
                      f"{source_truth}", direct[2])

    def test_a_paced_world_gives_the_same_events_no_faster_than_the_rate(self):
        source = "{name: world, type: synthetic, entities: 1500, days: 5, no_scenarios: true"
        _, _, fast = self.run_example(source + "}", "fast")
        rate = 5000
        _, _, paced = self.run_example(source + f", rate: {rate}}}", "paced")
        n = int(fast.split("read ")[1].split(" records")[0])
        self.assertGreater(n, 1000)
        self.assertIn(f"read {n} records: {n} decoded, 0 dead-lettered", paced)
        seconds = float(paced.split(" dead-lettered in ")[1].split(" s")[0])
        # A lower bound only: the first 10 ms worth go at once, then `rate` a second.
        self.assertGreaterEqual(seconds, (n - rate / 100) / rate - 0.01, paced)

    def test_config_errors_are_located_and_nothing_runs(self):
        cfg = self.config(synthetic_example(
            self.dir, "{name: world, type: synthetic, entities: 0, scenarios: [R1, R99], "
            "rate: -1, path: x.ndjson}"))
        for command in (("validate", str(cfg)), ("run", "--config", str(cfg))):
            r = run(*command)
            self.assertEqual(r.returncode, 3, r.stderr.decode())
            err = r.stderr.decode()
            line = cfg.read_text().splitlines().index(
                next(l for l in cfg.read_text().splitlines() if "type: synthetic" in l)) + 1
            for what in ("sources[0].entities: expected an integer from 1 to 100000000",
                         "sources[0].scenarios[1]: unknown scenario 'R99'; allowed: R1,",
                         "sources[0].rate: expected events per wall-clock second",
                         "sources[0].path: a synthetic source generates its events"):
                self.assertRegex(err, f"{cfg}:{line}:[0-9]+: error: " + re.escape(what))
        self.assertFalse((self.dir / "signals.ndjson").exists())


if __name__ == "__main__":
    unittest.main()


class Allocator(unittest.TestCase):
    @unittest.skipUnless(os.environ.get("CORRIDOR_JEMALLOC") == "1", "built without jemalloc")
    def test_the_binary_asks_for_huge_pages_and_keeps_freed_pages(self):
        # engine/alloc/jemalloc_conf.cc; jemalloc lists each option it set (confirm_conf).
        out = run("--version", env={"MALLOC_CONF": "confirm_conf:true"})
        self.assertEqual(out.returncode, 0, out.stderr)
        for option in ("thp:always", "dirty_decay_ms:-1", "muzzy_decay_ms:-1"):
            self.assertIn(f"Set conf value: {option}", out.stderr.decode())

    @unittest.skipUnless(os.environ.get("CORRIDOR_JEMALLOC") == "1", "built without jemalloc")
    def test_malloc_conf_in_the_environment_overrides_them(self):
        out = run("--version", env={"MALLOC_CONF": "confirm_conf:true,thp:default"})
        self.assertEqual(out.returncode, 0, out.stderr)
        err = out.stderr.decode()
        self.assertLess(err.index("Set conf value: thp:always"),
                        err.index("Set conf value: thp:default"))
