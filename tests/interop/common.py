"""Shared by the interop suites: counters, message capture, the dev certificates."""
import os
import sys

LA = "SE2321000016-LA01"
PNR = "1.2.752.129.2.1.3.1"
RESULT_NS = "urn:pu-adapter:result:1"


class Tally:
    """Counts calls and checks; remembers failures instead of stopping at the first."""

    def __init__(self, name):
        self.name, self.calls, self.checks, self.failures = name, 0, 0, []

    def check(self, ok, what):
        self.checks += 1
        if not ok:
            self.failures.append(what)
            print(f"  FAIL {what}", file=sys.stderr)

    def finish(self, captured):
        print(f"{self.name}: {self.calls} calls, {self.checks} checks, {captured} messages captured for schema checks")
        if self.failures:
            print(f"{self.name}: {len(self.failures)} failed: {self.failures}", file=sys.stderr)
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
