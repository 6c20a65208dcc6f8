"""End-to-end tests of `corridor backtest`: a config scored against ground truth.

CORRIDOR_BIN names the binary, CORRIDOR_SOURCE_DIR the checkout (ctest sets both).
"""
import json
import os
import pathlib
import subprocess
import tarfile
import unittest

from test_cli import AMLSIM, BIN, SRC, Workdir, lines, run

# USD per unit of every currency the synthetic world writes (connectors/synthetic).
WORLD_RATES = """currency:
  base: USD
  rates: {MYR: "0.2245", BDT: "0.0083", QAR: "0.2747", NPR: "0.0075", AED: "0.2723",
          LKR: "0.0033", THB: "0.0282", MMK: "0.000476", SAR: "0.2666", PHP: "0.0175"}
"""


class Backtest(Workdir):
    @classmethod
    def setUpClass(cls):
        import tempfile
        cls._world_dir = tempfile.TemporaryDirectory()
        d = cls._world_dir.name
        cls.events, cls.truth = f"{d}/world.ndjson", f"{d}/world.truth.ndjson"
        r = run("gen", "--seed", "5", "--entities", "3000", "--days", "40",
                "--out", cls.events, "--truth", cls.truth)
        assert r.returncode == 0, r.stderr.decode()

    @classmethod
    def tearDownClass(cls):
        cls._world_dir.cleanup()

    def world_config(self, name="shipped.yaml", packs=None, source=None):
        packs = packs or [SRC / "rules/packs/smuggling_fee.yaml",
                          SRC / "rules/packs/debt_bondage.yaml"]
        return self.config(f"""version: 1
sources:
  - {{name: world, type: file, path: {source or self.events}}}
sinks:
  dead_letter: {{type: stderr}}
rules:
  packs: [{", ".join(str(p) for p in packs)}]
{WORLD_RATES}
time:
  allowed_lateness: 1h
""", name=name)

    def backtest(self, *args, code=0):
        r = run("backtest", *args)
        self.assertEqual(r.returncode, code, r.stderr.decode())
        return r

    def report(self, *args, code=0):
        out = self.dir / "report.json"
        self.backtest(*args, "--json", str(out), code=code)
        return json.loads(out.read_text())

    def test_scores_the_shipped_packs_on_a_generated_world(self):
        r = self.backtest("--config", str(self.world_config()), "--truth", self.truth,
                          "--json", str(self.dir / "r.json"))
        table = r.stdout.decode()
        for word in ("smuggling_fee", "debt_bondage", "sf.r1_fan_in", "precision", "recall"):
            self.assertIn(word, table)
        self.assertNotIn(b"\r", r.stderr, "no progress line when stderr is not a terminal")
        rep = json.loads((self.dir / "r.json").read_text())
        truth = lines(self.truth)
        events = pathlib.Path(self.events).read_text().splitlines()
        self.assertEqual(rep["report"], "corridor.backtest.v1")
        self.assertEqual(rep["input"]["records"], len(events))
        self.assertEqual(rep["input"]["dead_lettered"], 0)
        self.assertEqual(rep["input"]["days"][0], json.loads(events[0])["ts"][:10])
        self.assertEqual(rep["truth"]["instances"], len(truth))
        self.assertIsNone(rep["comparison"])
        [run_] = rep["runs"]
        self.assertEqual([t["id"] for t in run_["typologies"]], ["smuggling_fee", "debt_bondage"])
        ndays = len(rep["input"]["days"])
        for t in run_["typologies"]:
            expected = [i for i in truth if i["expect_alert"] and i["typology"] == t["id"]]
            self.assertEqual(t["instances"], len(expected))
            # As the Gen test shows, the packs alert on exactly the combined instances.
            self.assertEqual((t["precision"], t["recall"], t["f1"]), (1, 1, 1), t["id"])
            self.assertEqual(t["missed"], [])
            self.assertEqual(len(t["per_day"]), ndays)
            self.assertEqual(sum(t["per_day"]), t["alerts"])
            self.assertEqual(sum(n for _, n in t["scores"]["positive"]), len(expected) + sum(
                n for s, n in t["scores"]["positive"] if s < t["threshold"]))
        self.assertEqual(sum(t["alerts"] for t in run_["typologies"]), run_["alerts"])
        for rule in run_["rules"]:
            self.assertEqual(rule["tp"] + rule["fp"], rule["flagged"], rule["id"])
            self.assertEqual(sum(rule["fp_reasons"].values()), rule["fp"], rule["id"])
            self.assertEqual(len(rule["per_day"]), ndays)
            self.assertLessEqual(sum(rule["per_day"]), rule["signals"])
        by_pattern = {p["pattern"]: p for p in run_["patterns"]}
        for p in by_pattern.values():
            self.assertEqual(p["recall"], 1, p["pattern"])  # every fire instance is caught
        self.assertEqual(len(by_pattern["R9"]["rules"]), 6)  # three kinds, in both packs
        self.assertEqual(len(run_["lookalikes"]),
                         sum(1 for i in truth if i["variant"] == "lookalike"))
        # A look-alike draws exactly the single rules its truth expects (a hostel's equal
        # rents after payday are R8's condition), never a typology's alert.
        expected = {i["scenario"]: set(i["expect_patterns"]) for i in truth}
        pattern_of = {r["id"]: r["pattern"] for r in run_["rules"]}
        for l in run_["lookalikes"]:
            self.assertTrue(all(f in pattern_of for f in l["flagged_by"]), l)
            self.assertEqual({pattern_of[f] for f in l["flagged_by"]}, expected[l["scenario"]], l)

    def test_json_on_stdout_replaces_the_table(self):
        r = self.backtest("--config", str(self.world_config()), "--truth", self.truth,
                          "--json", "-", "--max-records", "2000")
        rep = json.loads(r.stdout)
        self.assertEqual(rep["input"]["records"], 2000)

    def test_two_configs_show_the_alerts_only_one_raised(self):
        a = self.world_config("baseline.yaml")
        same = self.world_config("baseline-copy.yaml")
        rep = self.report("--config", str(a), "--config", str(same), "--truth", self.truth)
        self.assertEqual([r["label"] for r in rep["runs"]], ["baseline", "baseline-copy"])
        self.assertEqual(rep["comparison"]["only_a"], [])
        self.assertEqual(rep["comparison"]["only_b"], [])
        # Same input, same config: the same figures, whatever the run.
        for key in ("typologies", "rules", "patterns", "lookalikes", "signals", "alerts"):
            self.assertEqual(rep["runs"][0][key], rep["runs"][1][key], key)

        # A smuggling-fee typology only an entity hit by every one of its rules reaches.
        strict_dir = self.dir / "strict"
        strict_dir.mkdir()
        packs = []
        for name in ("smuggling_fee", "debt_bondage"):
            body = (SRC / f"rules/packs/{name}.yaml").read_text()
            body = body.replace("lists/", str(SRC / "rules/packs/lists") + "/")
            if name == "smuggling_fee":
                self.assertIn("    threshold: 100\n", body)
                body = body.replace("    threshold: 100\n", "    threshold: 425\n", 1)
            (strict_dir / f"{name}.yaml").write_text(body)
            packs.append(strict_dir / f"{name}.yaml")
        strict = self.world_config("strict.yaml", packs=packs)
        rep = self.report("--config", str(a), "--config", str(strict), "--truth", self.truth,
                          "--min-recall", "0.9", code=4)
        base, tuned = rep["runs"]
        sf = [t for t in tuned["typologies"] if t["id"] == "smuggling_fee"][0]
        self.assertEqual(sf["alerts"], 0)
        self.assertEqual(sf["recall"], 0)
        only_a = rep["comparison"]["only_a"]
        self.assertEqual(len(only_a), base["typologies"][0]["flagged"])
        self.assertTrue(only_a)
        for d in only_a:
            self.assertEqual((d["typology"], d["truth"]), ("smuggling_fee", "tp"))
        self.assertEqual(rep["comparison"]["only_b"], [])
        r = self.backtest("--config", str(a), "--config", str(strict), "--truth", self.truth,
                          "--min-recall", "0.9", "--min-precision", "0.8", code=4)
        self.assertIn(b"run strict: smuggling_fee recall 0.00 is below --min-recall 0.90", r.stderr)
        self.assertIn(b"alerts only baseline raised: ", r.stdout)

    def test_a_synthetic_source_brings_its_own_truth(self):
        # The world generated as it is read: no gen step, no --truth; the truth file a
        # synthetic source would write is left alone (two runs would race on it).
        body = self.world_config().read_text().replace(
            f"{{name: world, type: file, path: {self.events}}}",
            "{name: world, type: synthetic, seed: 5, entities: 3000, days: 40, "
            "truth: never-written.ndjson}")
        cfg = self.config(body, name="synthetic.yaml")
        rep = self.report("--config", str(cfg), "--config", str(cfg))
        self.assertFalse((self.dir / "never-written.ndjson").exists())
        from_file = self.report("--config", str(self.world_config()), "--truth", self.truth)
        self.assertEqual(rep["truth"]["source"], "synthetic source world")
        self.assertEqual(rep["truth"]["instances"], from_file["truth"]["instances"])
        self.assertIn("synthetic source world (seed 5, 3000 entities, 40 days)",
                      rep["input"]["description"])
        self.assertEqual(rep["input"]["records"], from_file["input"]["records"])
        for key in ("typologies", "rules", "patterns", "lookalikes"):
            self.assertEqual(rep["runs"][0][key], from_file["runs"][0][key], key)
            self.assertEqual(rep["runs"][1][key], from_file["runs"][0][key], key)
        # Progress through a world is its event time against the world's days.
        err = self.backtest("--config", str(cfg), "--progress").stderr.decode()
        self.assertIn("100%", err)
        err = self.backtest("--config", str(cfg), "--progress", "--max-records",
                            "5000").stderr.decode()
        self.assertNotIn("100%", err.split("\r")[-1])

    def test_a_stream_on_stdin(self):
        body = self.world_config().read_text().replace(
            f"{{name: world, type: file, path: {self.events}}}", "{name: world, type: stdin}")
        cfg = self.config(body, name="stream.yaml")
        events = pathlib.Path(self.events).read_bytes()
        r = run("backtest", "--config", str(cfg), "--truth", self.truth, "--json", "-",
                stdin=events)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        rep = json.loads(r.stdout)
        self.assertEqual(rep["input"]["description"], "stdin")
        self.assertEqual(rep["input"]["records"], len(events.splitlines()))
        # One stdin cannot feed two runs.
        r = run("backtest", "--config", str(cfg), "--config", str(cfg), "--truth", self.truth,
                stdin=events)
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"two runs cannot share stdin", r.stderr)

    def test_progress_line(self):
        r = self.backtest("--config", str(self.world_config()), "--truth", self.truth,
                          "--progress")
        err = r.stderr.decode()
        self.assertIn("\r", err)
        self.assertIn("events/s", err)
        self.assertIn("100%", err)
        r = self.backtest("--config", str(self.world_config()), "--truth", self.truth,
                          "--no-progress", "--max-records", "100")
        self.assertNotIn("\r", r.stderr.decode())

    def test_errors_come_before_any_event_is_read(self):
        cfg = str(self.world_config())
        r = self.backtest("--config", cfg, code=2)
        self.assertIn(b"give the ground truth", r.stderr)
        labels = self.dir / "labels.csv"
        labels.write_text("nodeid,isFraud\n1,1\n")
        self.backtest("--config", cfg, "--truth", self.truth, "--labels", str(labels), code=2)
        bad = self.dir / "bad.truth.ndjson"
        bad.write_text(pathlib.Path(self.truth).read_text().splitlines(True)[0] + "{\"scenario\": 1}\n")
        r = self.backtest("--config", cfg, "--truth", str(bad), code=3)
        self.assertIn(f"{bad}:2: `scenario` must be a string".encode(), r.stderr)
        self.assertNotIn(b"records", r.stderr)
        r = self.backtest("--config", cfg, "--labels", str(labels), "--label-column", "fraud",
                          code=3)
        self.assertIn(b":1: no column 'fraud' in the header", r.stderr)
        no_rules = self.config(f"version: 1\nsources:\n  - {{name: w, type: file, path: "
                               f"{self.events}}}\nsinks: {{dead_letter: {{type: stderr}}}}\n"
                               f"{WORLD_RATES}", name="norules.yaml")
        r = self.backtest("--config", str(no_rules), "--truth", self.truth, code=3)
        self.assertIn(b"the config names no rules.packs", r.stderr)
        self.backtest("--config", cfg, "--truth", self.truth, "--min-recall", "2", code=2)

    def test_labels_as_ground_truth(self):
        # Entity labels from a CSV: every labelled entity is a positive of every typology.
        rep = self.report("--config", str(self.world_config()), "--truth", self.truth)
        alerted = [t for t in rep["runs"][0]["typologies"] if t["alerts"]]
        truth = lines(self.truth)
        subjects = sorted({i["subject"] for i in truth if i["expect_alert"]})
        labels = self.dir / "labels.csv"
        labels.write_text("id,label\n" + "".join(f"{s},1\n" for s in subjects) +
                          "someone-else,0\n")
        rep = self.report("--config", str(self.world_config()), "--labels", str(labels),
                          "--label-id-column", "id", "--label-column", "label")
        self.assertEqual(rep["truth"]["format"], "labels")
        self.assertEqual(rep["truth"]["instances"], len(subjects))
        for t in rep["runs"][0]["typologies"]:
            self.assertEqual(t["instances"], len(subjects))
            self.assertEqual(t["tp"], t["flagged"])
        self.assertEqual(sum(t["detected"] for t in rep["runs"][0]["typologies"]),
                         sum(t["detected"] for t in alerted))


@unittest.skipUnless(AMLSIM.exists(), f"{AMLSIM} not present")
class AmlsimBacktest(Workdir):
    def test_isfraud_labels_are_the_ground_truth(self):
        with tarfile.open(AMLSIM) as tar:
            for member in tar.getmembers():
                if member.name.endswith(("transactions.csv", "nodes.csv")):
                    (self.dir / member.name.split("/")[-1]).write_bytes(
                        tar.extractfile(member).read())
        out = self.dir / "amlsim.json"
        r = subprocess.run(
            [BIN, "backtest", "--config", str(SRC / "config/examples/amlsim-backtest.yaml"),
             "--labels", str(self.dir / "nodes.csv"), "--json", str(out)],
            capture_output=True, timeout=300,
            env={**os.environ,
                 "AMLSIM_TRANSACTIONS": str(self.dir / "transactions.csv")})
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        rep = json.loads(out.read_text())
        self.assertEqual(rep["input"]["records"], 117805)
        self.assertEqual(rep["input"]["dead_lettered"], 0)
        self.assertEqual(rep["truth"]["instances"], 945)  # nodes.csv: 945 with isFraud 1
        [t] = rep["runs"][0]["typologies"]
        self.assertEqual(t["instances"], 945)
        self.assertGreater(t["tp"], 0)
        self.assertGreater(t["precision"], 0.5)


if __name__ == "__main__":
    unittest.main()
