"""Crash safety: SIGKILL ``qpki`` at random points and check the CA directory
(issue 6, item 2).

Each run forks a child of this (already warmed-up) test process that calls
the real CLI entry point, ``qpki.cli.main.main(argv)``, so that nearly all
of a child's life is the operation itself rather than interpreter start-up;
the parent kills it with SIGKILL after a seeded random delay drawn over the
measured duration of that command. After every kill:

- the invariants of reliability_support.check_invariants hold (index parses,
  every index serial has its certificate, no empty or partial file, CRLs
  parse and verify, the audit chain is intact);
- what a kill may legitimately leave behind is counted: orphan temporary
  files, an issued-but-unrecorded certificate, a CRL pair with different
  numbers, a missing audit record, a ``.<name>.init-*`` staging directory;
- whenever any of those is present, ``ca check`` must report it and
  ``ca check --repair`` must fix it (after which the strict invariants and
  ``audit verify`` pass);
- the next command (not killed) succeeds.

Where each kill landed is known, not assumed: the child logs every durable
step it completes (crash_phases.py), so each kill is classed as before the
writes, mid-write, after the writes, or too late (the run finished). Half
of the delays aim at the span of the writes measured in complete runs. The
test fails unless a quarter of the kills land mid-write, and a kill before
any write must leave the CA directory as it was. A second test kills each
command just before each of its durable steps in turn (no timing at all)
and checks that only what the completed steps put in place changed.

A smaller variant kills real ``qpki`` processes (fork + exec of the console
script, instrumented by a sitecustomize), half of them at a chosen step.
QPKI_CRASH_RUNS and QPKI_CRASH_SEED change the defaults.
"""

import contextlib
import io
import json
import os
import random
import select
import signal
import statistics
import subprocess
import time
from pathlib import Path

import pytest

import crash_phases
from conftest import diff_snapshots, tree_snapshot
from reliability_support import TEMP_MARK, check_invariants, make_csr

SEED = int(os.environ.get("QPKI_CRASH_SEED", "20261128"))
RUNS = int(os.environ.get("QPKI_CRASH_RUNS", "300"))
EXEC_RUNS = int(os.environ.get("QPKI_CRASH_EXEC_RUNS", "24"))


def _run_main(argv, cwd):
    """main(argv) in-process with output discarded; returns the exit code."""
    from qpki.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    old = os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
    finally:
        os.chdir(old)
    return code, err.getvalue()


def _fork_main(argv, cwd, delay=None, before=None, wait=None):
    """Run main(argv) in a forked child; SIGKILL it after ``delay`` seconds
    (None: let it finish). ``before``: called in the child first. ``wait``:
    called here after the fork; the delay counts from its return. Returns
    (killed, exit code or None, seconds it ran: until it exited or was
    killed)."""
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:  # child: never return into pytest
        code = 70
        try:
            os.chdir(cwd)
            devnull = os.open(os.devnull, os.O_RDWR)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            if before is not None:
                before()
            from qpki.cli.main import main

            code = main(argv)
        except BaseException:  # noqa: BLE001 - anything but a clean exit is a failure
            code = 70
        finally:
            os._exit(code if isinstance(code, int) else 71)
    done = 0
    if delay is not None:  # wait in short steps, so a run that ends early is timed exactly
        if wait is not None:
            wait()
        deadline = (started if wait is None else time.monotonic()) + delay
        while not done and time.monotonic() < deadline:
            time.sleep(min(0.002, max(0.0, deadline - time.monotonic())))
            done, status = os.waitpid(pid, os.WNOHANG)
        if not done:
            os.kill(pid, signal.SIGKILL)
    if not done:
        dummy, status = os.waitpid(pid, 0)
    elapsed = time.monotonic() - started
    if os.WIFSIGNALED(status):
        return True, None, elapsed
    return False, os.WEXITSTATUS(status), elapsed


# SQLite's write-ahead log and its index: the database's content only through
# a commit, which the step log records (as "commit .../ca.db").
SQLITE_OWN = ("-wal", "-shm")


def changed_paths(before, after):
    """Paths (relative, "/"-separated) that diff_snapshots reports, temporary
    files of atomic writes left out."""
    paths = {line.split(None, 1)[1].split(":", 1)[0] for line in diff_snapshots(before, after)}
    return {path for path in paths if TEMP_MARK not in path.rsplit("/", 1)[-1]
            and not path.endswith(SQLITE_OWN)}


# The commands the harness runs, and how often each is drawn.
KINDS = {"issue": 40, "revoke": 20, "crl": 20, "init-root": 8, "init-sub": 12}


class Harness:
    def __init__(self, work, rng, kinds=None):
        self.work = Path(work)
        self.rng = rng
        self.kinds = dict(kinds or KINDS)
        # Called before each look at the directory: on a shared database,
        # copying what the database holds beyond the files is not a repair.
        self.settle = lambda: None
        self.ca = self.work / "ca"
        self.csrs = []
        self.stats = {"kills": 0, "finished_before_kill": 0, "unrecorded": 0, "temps": 0,
                      "crl_mismatch": 0, "audit_gaps": 0, "stale_serial": 0, "staging": 0,
                      "repairs": 0, "by_command": {}, "phases": {}, "mid_write_by_command": {}}
        self.durations = {}
        self.recent = {}
        self.windows = {}  # kind -> recent (first step, last step) offsets of complete runs
        self.traces = {}  # kind -> step labels of its last complete run
        self.counter = 0
        self.logs = 0
        self.staging = set()

    # -- running a command with its durable steps logged ------------------------

    def run_logged(self, argv, delay=None, kill_before=None, from_first_step=False):
        """_fork_main with crash_phases installed in the child. With
        ``from_first_step`` the delay counts from the child's first durable
        step (it says so on a pipe). Returns (killed, exit code, seconds,
        steps it completed)."""
        self.logs += 1
        log = self.work / "steps" / ("%d.log" % self.logs)
        log.parent.mkdir(exist_ok=True)
        ready, told = os.pipe() if from_first_step else (None, None)

        def first_step():  # or, for a child that never gets there, a while
            select.select([ready], [], [], 2 + 3 * self.durations[self.kind_of(argv)])
        started = time.monotonic()
        try:
            killed, code, elapsed = _fork_main(
                argv, self.work, delay,
                before=lambda: crash_phases.install(str(log), kill_before, first_step_fd=told),
                wait=first_step if from_first_step else None)
        finally:
            for fd in (ready, told):
                if fd is not None:
                    os.close(fd)
        steps = crash_phases.read(log)
        if not killed and code == 0:
            kind = self.kind_of(argv)
            self.traces[kind] = [step.label for step in steps]
            if steps:
                window = self.windows.setdefault(kind, [])
                window.append((steps[0].at - started, steps[-1].at - started))
                del window[:-5]
        return killed, code, elapsed, steps

    def in_progress(self, kind, steps, argv):
        """CA paths a run killed after ``steps`` may have changed: the
        targets of those steps, and the file the next step fsyncs (written
        in place, like the audit log) when the complete run's next step is
        such an fsync."""
        ca = self.ca.resolve()
        targets = [Path(self.work, step.target).resolve() for step in steps]
        trace = self.traces[kind]
        if len(steps) < len(trace) and trace[len(steps)].startswith("fsync "):
            name = trace[len(steps)].split(" ", 1)[1]
            targets += [p.resolve() for p in self.ca.rglob(name)]
        return {t.relative_to(ca).as_posix() for t in targets if t.is_relative_to(ca)} | {"."}

    @staticmethod
    def kind_of(argv):
        if argv[:2] == ["ca", "init"]:
            return "init-sub" if "--parent" in argv else "init-root"
        return {"issue": "issue", "revoke": "revoke", "gen": "crl"}[argv[1]]

    # -- commands ------------------------------------------------------------

    def csr(self):
        self.counter += 1
        path = self.work / "csr" / ("%d.csr" % self.counter)
        path.write_bytes(make_csr("host%d.example.com" % self.counter))
        return str(path)

    def valid_serial(self):
        from qpki.store.index import read_index

        serials = ["%X" % e.serial for e in read_index(self.ca / "index.txt") if e.status == "V"]
        return self.rng.choice(serials) if serials else None

    def command(self, kind):
        if kind == "issue":
            return ["cert", "issue", "--ca-dir", "ca", "--profile", "ec/tls-server",
                    "--csr", self.csr()]
        if kind == "revoke":
            serial = self.valid_serial()
            if serial is None:
                return self.command("issue")
            return ["cert", "revoke", serial, "--ca-dir", "ca", "--reason",
                    self.rng.choice(["keyCompromise", "superseded", "unspecified"])]
        if kind == "crl":
            return ["crl", "gen", "--ca-dir", "ca"]
        self.counter += 1
        if kind == "init-root":
            return ["ca", "init", "--profile", "ec/root-ca", "--var", "cn=Root %d" % self.counter,
                    "--ca-dir", "roots/r%d" % self.counter]
        return ["ca", "init", "--profile", "ec/issuing-ca", "--var", "cn=Sub %d" % self.counter,
                "--ca-dir", "subs/s%d" % self.counter, "--parent", "ca"]

    # -- checks --------------------------------------------------------------

    def findings(self):
        facts = check_invariants(self.ca, allow_unrecorded=True)
        from qpki.store.serials import last_serial
        from qpki.store.index import read_index

        entries = read_index(self.ca / "index.txt")
        stale = bool(entries) and last_serial(self.ca) != entries[-1].serial
        crl = facts["crl"]
        crl_mismatch = crl is not None and (len(crl) == 1 or crl[0] != crl[1])
        return facts, stale, crl_mismatch

    def check_and_repair(self):
        """ca check must see whatever a kill left; --repair must fix it."""
        from qpki.ops.audit.trail import audit_verify
        from qpki.ops.ca.check import ca_check

        self.settle()
        facts, stale, crl_mismatch = self.findings()
        staging = sorted(str(p) for p in self.work.glob("*/.*.init-*"))
        dirty = (facts["unrecorded"] or facts["temps"] or facts["gaps"] or stale
                 or crl_mismatch or facts["committed"])
        self.stats["unrecorded"] += len(facts["unrecorded"])
        self.stats["temps"] += len(facts["temps"])
        self.stats["audit_gaps"] += len(facts["gaps"])
        self.stats["stale_serial"] += int(stale)
        self.stats["crl_mismatch"] += int(crl_mismatch)
        if dirty:
            seen = ca_check(str(self.ca)).to_dict()
            assert not seen["valid"], (facts, seen)
            text = " ".join(seen["problems"])
            for serial in facts["unrecorded"]:
                assert "%X" % serial in text.upper(), (serial, seen)
            for temp in facts["temps"]:
                assert temp in text, (temp, seen)
            fixed = ca_check(str(self.ca), repair=True).to_dict()
            assert fixed["valid"] and fixed["repaired"], fixed
            self.stats["repairs"] += 1
            facts = check_invariants(self.ca)
            assert not facts["temps"] and not facts["gaps"] and not facts["committed"], facts
            verdict = audit_verify(str(self.ca))
            assert verdict.valid, verdict
        self.staging.update(staging)
        self.stats["staging"] = len(self.staging)

    def check_new_ca(self, argv):
        target = self.work / argv[argv.index("--ca-dir") + 1]
        if (target / "ca.meta.json").exists():
            facts = check_invariants(target)
            assert not facts["unrecorded"] and not facts["gaps"], facts
            return
        # Never half a CA: either complete or not there (maybe an empty dir).
        assert not target.exists() or not any(target.iterdir()), list(target.iterdir())
        for leftover in target.parent.glob(".%s.init-*" % target.name):
            assert leftover.is_dir()
        code, err = _run_main(argv, self.work)  # the next attempt just works
        assert code == 0, err
        check_invariants(target)

    # -- one run ---------------------------------------------------------------

    def calibrate(self):
        for kind in self.kinds:
            for dummy in range(3):
                killed, code, elapsed, steps = self.run_logged(self.command(kind))
                assert not killed and code == 0, (kind, code)
                assert steps, "%s wrote nothing durable" % kind
                self.timed(kind, elapsed)

    def timed(self, kind, elapsed):
        """Track how long ``kind`` takes now: the median of its last five
        complete runs, so that the kill delays follow the machine's load
        (a calibration made under load would let most later runs finish)."""
        recent = self.recent.setdefault(kind, [])
        recent.append(elapsed)
        del recent[:-5]
        self.durations[kind] = statistics.median(recent)

    def delay_for(self, kind):
        """(delay, counted from the first durable step?): half of the kills
        anywhere in a run, half at a random moment within the span its
        writes took in recent complete runs, counted from its own first
        write (the start-up before it varies too much between runs for a
        delay from the fork to find the writes)."""
        if self.rng.random() < 0.5:
            return self.rng.uniform(0, 1.15 * self.durations[kind]), False
        span = statistics.median(last - first for first, last in self.windows[kind])
        return self.rng.uniform(0, span), True

    def run_once(self):
        kind = self.rng.choices(list(self.kinds), weights=list(self.kinds.values()))[0]
        argv = self.command(kind)
        total = len(self.traces[kind])
        before = tree_snapshot(self.ca)
        delay, from_first_step = self.delay_for(kind)
        killed, code, elapsed, steps = self.run_logged(argv, delay,
                                                       from_first_step=from_first_step)
        where = crash_phases.phase(len(steps), total, finished=not killed)
        self.stats["kills"] += 1
        self.stats["by_command"][kind] = self.stats["by_command"].get(kind, 0) + 1
        self.stats["phases"][where] = self.stats["phases"].get(where, 0) + 1
        if where == "mid-write":
            mids = self.stats["mid_write_by_command"]
            mids[kind] = mids.get(kind, 0) + 1
        if where == "before-writes":  # nothing durable yet: nothing committed changed
            changed = changed_paths(before, tree_snapshot(self.ca))
            assert changed <= self.in_progress(kind, [], argv), (argv, changed)
        if not killed:
            self.stats["finished_before_kill"] += 1
            assert code == 0, (argv, code)
            self.timed(kind, elapsed)
        if kind.startswith("init"):
            self.check_new_ca(argv)
        self.check_and_repair()
        # The next command, not killed, works.
        follow = self.command(self.rng.choice(["issue", "revoke", "crl"]))
        code, err = _run_main(follow, self.work)
        assert code == 0, (follow, err)


@pytest.fixture
def harness(tmp_path):
    from qpki.ops.ca.commands import ca_init

    (tmp_path / "csr").mkdir()
    (tmp_path / "roots").mkdir()
    (tmp_path / "subs").mkdir()
    ca_init(str(tmp_path / "ca"), "ec/root-ca", {"cn": "Crash Test Root"})
    h = Harness(tmp_path, random.Random(SEED))
    # Warm up in this process so that forked children inherit every import.
    for kind in ("issue", "revoke", "crl", "init-root", "init-sub"):
        code, err = _run_main(h.command(kind), tmp_path)
        assert code == 0, err
    from qpki.ops.audit import trail  # noqa: F401
    from qpki.ops.ca import check  # noqa: F401
    return h


def test_sigkill_at_random_points(harness, record_property):
    sigkill_at_random_points(harness, RUNS, record_property)


def sigkill_at_random_points(harness, runs, record_property):
    """``runs`` kills at random moments, then the final checks."""
    started = time.monotonic()
    harness.calibrate()
    for dummy in range(runs):
        harness.run_once()
    # Final state: clean after one more repair pass, and the log is whole.
    from qpki.ops.audit.trail import audit_verify
    from qpki.ops.ca.check import ca_check

    final = ca_check(str(harness.ca), repair=True).to_dict()
    assert final["valid"], final
    assert audit_verify(str(harness.ca)).valid
    stats = dict(harness.stats, seconds=round(time.monotonic() - started, 1),
                 durations_ms={k: round(v * 1000, 1) for k, v in harness.durations.items()})
    record_property("crash_stats", stats)
    print("\ncrash harness (seed %d): %s" % (SEED, stats))
    # The harness must actually have hit the windows it is about, as the
    # children's step logs show (not as the delays suggest).
    assert stats["kills"] == runs == sum(stats["phases"].values())
    assert stats["phases"].get("finished", 0) == stats["finished_before_kill"]
    assert stats["phases"].get("mid-write", 0) >= runs // 4, stats["phases"]
    for kind, count in stats["by_command"].items():
        if count >= 10:
            assert stats["mid_write_by_command"].get(kind, 0) >= 1, (kind, stats)


@pytest.mark.parametrize("kind", list(KINDS))
def test_sigkill_before_each_durable_step(harness, kind):
    sigkill_before_each_durable_step(harness, kind)


def sigkill_before_each_durable_step(harness, kind):
    """Kill ``kind`` just before each of its durable steps in turn (the child
    kills itself there: no timing). Each kill landed where it claims: the
    step log shows exactly the steps before it, and in the CA directory
    nothing changed but what those steps put in place. Then the usual:
    invariants, ca check sees and repairs, the next command works."""
    killed, code, dummy, dummy = harness.run_logged(harness.command(kind))
    assert not killed and code == 0
    trace = harness.traces[kind]
    assert trace, "%s has no durable step" % kind
    for number in range(1, len(trace) + 1):
        argv = harness.command(kind)
        before = tree_snapshot(harness.ca)
        killed, code, dummy, steps = harness.run_logged(argv, kill_before=number)
        assert killed and code is None, (argv, number)
        assert [step.label for step in steps] == trace[:number - 1], (number, steps)
        changed = changed_paths(before, tree_snapshot(harness.ca))
        assert changed <= harness.in_progress(kind, steps, argv), (number, trace, changed)
        if kind.startswith("init"):
            harness.check_new_ca(argv)
        harness.check_and_repair()
        follow = harness.command("issue")
        code, err = _run_main(follow, harness.work)
        assert code == 0, (follow, err)


def test_ca_check_reports_and_removes_staging_leftovers(harness):
    """A ca init killed before it renames its staging directory into place
    leaves .<name>.init-* beside the target: the next ca init ignores it; ca
    check names it and --repair removes it once it is old enough not to
    belong to a running ca init."""
    from qpki.ops.ca.check import ca_check

    killed, code, dummy, dummy = harness.run_logged(harness.command("init-root"))
    assert not killed and code == 0
    renames = [n for n, label in enumerate(harness.traces["init-root"], 1)
               if label.startswith("rename ")]
    assert renames, harness.traces["init-root"]
    argv = ["ca", "init", "--profile", "ec/root-ca", "--var", "cn=Left", "--ca-dir",
            "roots/left"]
    killed, dummy, dummy, steps = harness.run_logged(argv, kill_before=renames[-1])
    assert killed and len(steps) == renames[-1] - 1
    target = harness.work / "roots" / "left"
    leftover = list(target.parent.glob(".left.init-*"))
    assert len(leftover) == 1 and not (target / "ca.meta.json").exists()
    young = ca_check(str(target), repair=True).to_dict()
    assert not young["valid"] and "younger" in young["problems"][0]
    assert leftover[0].exists()
    old = time.time() - 3600
    os.utime(leftover[0], (old, old))
    fixed = ca_check(str(target), repair=True).to_dict()
    assert fixed["valid"] and fixed["repaired"], fixed
    assert not leftover[0].exists()


def test_killing_the_real_console_script(harness, qpki_cli, tmp_path):
    """Kills of genuine ``qpki`` processes (interpreter start-up included),
    their durable steps logged by a sitecustomize: every other kill at a
    chosen step, which must be where it landed; the others after a delay
    spread over start-up + operation, each classed by its log."""
    from conftest import qpki_command

    rng = random.Random(SEED + 1)
    site = crash_phases.sitecustomize_dir(tmp_path / "site")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        filter(None, [str(site), os.environ.get("PYTHONPATH")])))
    logs = iter(range(10**6))

    def run(argv, delay=None, kill_before=None):
        log = tmp_path / "steps" / ("real-%d.log" % next(logs))
        log.parent.mkdir(exist_ok=True)
        child_env = dict(env, **{crash_phases.LOG_ENV: str(log)})
        if kill_before is not None:
            child_env[crash_phases.KILL_ENV] = str(kill_before)
        started = time.monotonic()
        child = subprocess.Popen(qpki_command() + argv, cwd=tmp_path, env=child_env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if delay is not None:
            try:
                child.wait(timeout=delay)
            except subprocess.TimeoutExpired:
                child.send_signal(signal.SIGKILL)
        child.wait()
        return child.returncode, crash_phases.read(log), time.monotonic() - started

    traces, full = {}, {}
    for kind in ("issue", "revoke", "crl"):
        code, steps, full[kind] = run(harness.command(kind))
        assert code == 0 and steps, (kind, code)
        traces[kind] = [step.label for step in steps]
    phases = {}
    for number in range(EXEC_RUNS):
        kind = rng.choice(["issue", "revoke", "crl"])
        argv = harness.command(kind)
        if number % 2:
            chosen = rng.randint(1, len(traces[kind]))
            code, steps, dummy = run(argv, kill_before=chosen)
            assert code == -signal.SIGKILL, (argv, code)
            assert [step.label for step in steps] == traces[kind][:chosen - 1], (chosen, steps)
            where = "chosen step"
        else:
            code, steps, dummy = run(argv, delay=rng.uniform(0.6 * full[kind], 1.1 * full[kind]))
            where = crash_phases.phase(len(steps), len(traces[kind]), finished=code == 0)
            assert code in (0, -signal.SIGKILL), (argv, code)
        phases[where] = phases.get(where, 0) + 1
        harness.check_and_repair()
    print("\nreal console script kills: %s" % phases)
    assert phases["chosen step"] == EXEC_RUNS // 2
    result = qpki_cli("ca", "check", "--ca-dir", "ca", "--json")
    assert result.returncode == 0, result
    assert result.json()["valid"]


def _die_at_the_audit_append():
    """In the child: SIGKILL itself at the moment its operation appends its
    audit records, i.e. after every file of the operation is written."""
    from qpki.store import audit as store_audit

    def die(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    store_audit.append_records = die


def _serial_to_change(harness, kind):
    """A valid certificate's serial (two are issued first); for ``unhold``,
    one put on hold."""
    for dummy in range(2):
        code, err = _run_main(harness.command("issue"), harness.work)
        assert code == 0, err
    serial = harness.valid_serial()
    if kind == "unhold":
        code, err = _run_main(["cert", "revoke", serial, "--ca-dir", "ca", "--reason",
                               "certificateHold"], harness.work)
        assert code == 0, err
    return serial


def _assert_completed(harness, kind, logged):
    """After the follow-up command: audit verify and ca check (no --repair)
    are clean, and the log holds ``logged``, the killed change's records,
    then the follow-up's."""
    from qpki.ops.audit.trail import audit_verify
    from qpki.ops.ca.check import ca_check

    verdict = audit_verify(str(harness.ca))
    assert verdict.valid, verdict
    checked = ca_check(str(harness.ca)).to_dict()
    assert checked["valid"] and not checked["problems"], checked
    ops = _audit_ops(harness.ca)
    expected = {"issue": ["cert.issue"], "batch": ["cert.issue"] * 2,
                "revoke": ["cert.revoke"], "unhold": ["cert.unhold"], "crl": ["crl.gen"]}[kind]
    assert ops[:len(logged)] == logged and ops[len(logged):-1] == expected, ops


def _audit_ops(ca):
    from qpki.store import audit as store_audit

    return [json.loads(line)["op"] for line in
            Path(store_audit.audit_path(ca)).read_text().splitlines()]


@pytest.mark.parametrize("kind", ["issue", "batch", "revoke", "unhold", "crl"])
def test_killed_between_its_files_and_its_audit_record(harness, kind):
    """Issue 13, item 18: SIGKILL after the index (or CRL) is written and
    before the audit record is appended. The next ordinary command completes
    the record by itself: audit verify and ca check (no --repair) are clean."""
    from qpki.ops.audit.trail import audit_verify, coverage_gaps, walk_chain
    from qpki.store.ca_dir import CaDir

    serial = _serial_to_change(harness, kind)
    argv = {"issue": harness.command("issue"),
            "batch": harness.command("issue") + ["--csr", harness.csr(), "--out-dir", "out"],
            "revoke": ["cert", "revoke", serial, "--ca-dir", "ca", "--reason", "keyCompromise"],
            "unhold": ["cert", "unhold", serial, "--ca-dir", "ca"],
            "crl": ["crl", "gen", "--ca-dir", "ca"]}[kind]
    logged = _audit_ops(harness.ca)
    killed, dummy, dummy = _fork_main(argv, harness.work, before=_die_at_the_audit_append)
    assert killed
    # The kill landed where it claims: the change is on disk, its record is not.
    assert _audit_ops(harness.ca) == logged
    chain = walk_chain(str(harness.ca / "audit.log"))
    if kind == "unhold":  # index valid again, the log still says held
        assert "undone" in audit_verify(str(harness.ca)).reason
    else:
        assert coverage_gaps(CaDir(harness.ca), chain.records)

    follow = ["cert", "issue", "--ca-dir", "ca", "--profile", "ec/tls-server", "--csr",
              harness.csr()] if kind == "crl" else ["crl", "gen", "--ca-dir", "ca"]
    code, err = _run_main(follow, harness.work)
    assert code == 0, err
    # The record written ahead of the change completed the log, in place.
    _assert_completed(harness, kind, logged)
    from qpki.store.audit_pending import read_pending

    assert not read_pending(harness.ca)


@pytest.mark.parametrize("kind", ["issue", "batch", "revoke", "unhold"])
def test_killed_right_after_the_database_commit(harness, kind):
    """Issue 15, items 1 and 8: SIGKILL just after the CA database committed
    the change (rows, counters and audit records in one transaction) and
    before any file was written. The next ordinary command writes what the
    commit holds: the certificate file, its index line, the serial file and
    the audit record; then audit verify and ca check are clean with no
    --repair."""

    serial = _serial_to_change(harness, kind)

    def argv():
        if kind == "batch":
            return harness.command("issue") + ["--csr", harness.csr(), "--out-dir", "out"]
        if kind == "revoke":
            return ["cert", "revoke", harness.valid_serial(), "--ca-dir", "ca"]
        if kind == "unhold":
            return ["cert", "unhold", serial, "--ca-dir", "ca"]
        return harness.command(kind)

    if kind != "unhold":  # a complete run (the second: the first makes out/) shows the steps
        for dummy in range(2 if kind == "batch" else 1):
            killed, code, dummy, steps = harness.run_logged(argv())
            assert not killed and code == 0
        trace = [step.label for step in steps]
    else:
        trace = ["commit ca.db"]
    commit = trace.index("commit ca.db") + 1
    logged = _audit_ops(harness.ca)
    command = argv()
    killed, code, dummy, steps = harness.run_logged(command, kill_before=commit + 1)
    assert killed and steps and steps[-1].label == "commit ca.db", (trace, steps, code)
    # Committed, and no record in the log yet (a line changed in place may
    # be written, not yet flushed).
    assert _audit_ops(harness.ca) == logged
    code, err = _run_main(["crl", "gen", "--ca-dir", "ca"], harness.work)
    assert code == 0, err
    _assert_completed(harness, kind, logged)
    facts = check_invariants(harness.ca)
    assert not facts["committed"] and not facts["gaps"], facts
