#!/usr/bin/env python3
"""Agreement of `kvet test` with Kyverno CLI test suites, per kind of rule.

    tests/bench/kyverno-agreement.py KVET FOLDER [--failures]

Runs `KVET test FOLDER` (a folder of kyverno-test.yaml files, e.g. the Kyverno policy
library's) and prints, per feature (pattern, anyPattern, deny, foreach, cel,
ValidatingPolicy, …), how many expected verdicts kvet agrees with. `--failures` also
lists each disagreement.
"""
import re
import subprocess
import sys
from collections import Counter

LINE = re.compile(r"^(PASS|FAIL) (.*) \((?P<feature>[^()]*)\)$")


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    kvet, folder = sys.argv[1], sys.argv[2]
    run = subprocess.run([kvet, "test", folder], capture_output=True, text=True)
    if run.returncode not in (0, 1):
        sys.exit(f"kvet test failed ({run.returncode}):\n{run.stderr}")
    agree, total, not_evaluated = Counter(), Counter(), Counter()
    failures = []
    for line in run.stdout.splitlines():
        if line.startswith("SKIP "):
            not_evaluated[line.rsplit(": ", 1)[-1].removesuffix(" is not evaluated")] += 1
            continue
        m = LINE.match(line)
        if not m:
            continue
        feature = m.group("feature")
        total[feature] += 1
        if m.group(1) == "PASS":
            agree[feature] += 1
        else:
            failures.append(line)
    print(f"{'feature':<18} {'agree':>6} {'total':>6} {'%':>7}")
    for feature in sorted(total, key=lambda f: -total[f]):
        pct = 100.0 * agree[feature] / total[feature]
        print(f"{feature:<18} {agree[feature]:>6} {total[feature]:>6} {pct:>6.1f}%")
    a, t = sum(agree.values()), sum(total.values())
    print(f"{'all evaluated':<18} {a:>6} {t:>6} {100.0 * a / max(t, 1):>6.1f}%")
    for what, n in sorted(not_evaluated.items()):
        print(f"not evaluated: {what}: {n}")
    if "--failures" in sys.argv:
        print("\n".join(failures))


if __name__ == "__main__":
    main()
