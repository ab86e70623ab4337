#!/usr/bin/env python3
"""Prints the slowest GoogleTest cases of a test run.

Reads the JSON reports (--gtest_output=json:...) that each ctest entry of
tests/CMakeLists.txt writes to build/test-results/, and prints the N slowest cases
with their times. With --durations FILE it writes every case's time instead, in the
format of tests/durations.txt, from which the build balances the shards.

Usage: python3 scripts/slowest_tests.py [RESULTS_DIR] [N]
       python3 scripts/slowest_tests.py RESULTS_DIR --durations tests/durations.txt
"""
import json
import pathlib
import sys


def cases(results_dir):
    out = []
    for path in sorted(pathlib.Path(results_dir).glob("*.json")):
        try:
            report = json.loads(path.read_text())
        except (OSError, ValueError) as e:
            print(f"slowest_tests: {path}: unreadable report ({e}); skipped", file=sys.stderr)
            continue
        for suite in report.get("testsuites", []):
            for case in suite.get("testsuite", []):
                seconds = float(str(case.get("time", "0s")).rstrip("s") or 0)
                out.append((seconds, f"{suite['name']}.{case['name']}", path.stem))
    return out


def main(argv):
    results_dir = argv[1] if len(argv) > 1 else "build/test-results"
    found = cases(results_dir)
    if len(argv) > 3 and argv[2] == "--durations":
        lines = ["# Seconds per test case, measured by scripts/slowest_tests.py --durations;",
                 "# tests/CMakeLists.txt gives the slow suites ctest entries of their own and",
                 "# balances the rest by these. Re-measure after adding or changing a slow test.\n"]
        merged = {}
        for seconds, name, _ in found:
            merged[name] = max(seconds, merged.get(name, 0.0))
        body = "".join(f"{name} {seconds:.1f}\n" for name, seconds in sorted(merged.items()))
        pathlib.Path(argv[3]).write_text("\n".join(lines) + body)
        print(f"slowest_tests: wrote {len(merged)} durations to {argv[3]}")
        return 0
    n = int(argv[2]) if len(argv) > 2 else 10
    if not found:
        print(f"slowest_tests: no test reports in {results_dir}")
        return 0
    found.sort(reverse=True)
    total = sum(s for s, _, _ in found)
    print(f"\nthe {min(n, len(found))} slowest of {len(found)} test cases "
          f"({total:.0f} s of test time in all):")
    for seconds, name, entry in found[:n]:
        print(f"{seconds:9.1f} s  {name}  [{entry}]")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
