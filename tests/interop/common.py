"""Shared by the interop suites: counters, message capture, the dev certificates."""
import os
import sys
import traceback

LA = "SE2321000016-LA01"
PNR = "1.2.752.129.2.1.3.1"
RESULT_NS = "urn:pu-adapter:result:1"


def report(name, passed, failed):
    """The one line per suite that run.sh and test.sh count (keep the format in step with
    node/suite.js, run.sh and test.sh): "interop: NAME: P checks passed, F failed"."""
    print(f"interop: {name}: {passed} checks passed, {failed} failed", flush=True)


class Tally:
    """Counts calls and checks; remembers failures instead of stopping at the first. An
    exception that ends the suite early counts as one more failed check, and the suite
    still reports its counts."""

    def __init__(self, name):
        self.name, self.calls, self.checks, self.failures = name, 0, 0, []
        sys.excepthook = self._crashed

    def check(self, ok, what):
        self.checks += 1
        if not ok:
            self.failures.append(what)
            print(f"  FAIL {what}", file=sys.stderr, flush=True)

    def _crashed(self, kind, value, tb):
        traceback.print_exception(kind, value, tb)
        self.checks += 1
        self.failures.append(f"stopped early by {kind.__name__}: {value}")
        print(f"{self.name}: stopped early after {self.calls} calls", file=sys.stderr, flush=True)
        report(self.name, self.checks - len(self.failures), len(self.failures))
        # Returning lets the interpreter exit with status 1, as for any uncaught exception.

    def finish(self, captured):
        print(f"{self.name}: {self.calls} calls, {self.checks} checks, {captured} messages captured for schema checks")
        report(self.name, self.checks - len(self.failures), len(self.failures))
        if self.failures:
            print(f"{self.name}: {len(self.failures)} failed: {self.failures}", file=sys.stderr)
            sys.exit(1)
        if self.checks == 0:
            print(f"{self.name}: no checks ran", file=sys.stderr)
            sys.exit(1)


class Capture:
    """Writes every message received to OUT/<prefix>-NNNN.xml."""

    def __init__(self, out, prefix):
        self.out, self.prefix, self.count = out, prefix, 0
        os.makedirs(out, exist_ok=True)

    def save(self, data: bytes):
        self.count += 1
        with open(os.path.join(self.out, f"{self.prefix}-{self.count:04d}.xml"), "wb") as f:
            f.write(data)
