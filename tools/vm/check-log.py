#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Judge a gosync test VM console log.

Prints every KUnit case result of the named modules, then a closing line
"N passed, N failed[, N skipped]", and exits 1 when anything failed:
a failed or missing case, a module that did not load or unload, a VM that
did not finish, or any kernel warning, BUG, oops, lockdep, RCU, hung-task
or soft-lockup report outside an expected-warning window.

Tests that provoke a warning on purpose open and close a window with the
console lines "gosync: expect-warning begin" and "gosync: expect-warning
end" (see include/gosync/testing.h).
"""

import argparse
import re
import sys

TIMESTAMP = re.compile(r'^\[\s*\d+\.\d+\] ?')
SUBTEST = re.compile(r'^(\s*)# Subtest: (\S+)')
PLAN = re.compile(r'^(\s*)1\.\.(\d+)')
RESULT = re.compile(r'^(\s*)(ok|not ok) (\d+) (\S+)(.*)$')
BAD = re.compile(
    r'WARNING:|BUG:|Oops|Kernel panic|Call Trace:|cut here|INFO: |'
    r'possible (circular|recursive) locking|inconsistent lock state|'
    r'suspicious RCU usage|soft lockup|hard LOCKUP|rcu_.*stall|'
    r'KASAN|KCSAN|UBSAN|DEBUG_LOCKS_WARN_ON|general protection fault|'
    r'non-static key|sleeping function called|unreferenced object|'
    r'bad unlock balance|held lock freed|scheduling while atomic')
# Lines of one splat (cut here, WARNING, Call Trace...) are one report.
REPORT_SPAN = 80
WINDOW_BEGIN = 'gosync: expect-warning begin'
WINDOW_END = 'gosync: expect-warning end'


def read_lines(path):
    with open(path, 'rb') as log:
        for raw in log:
            line = raw.decode('utf-8', 'replace').rstrip('\r\n').rstrip('\r')
            yield TIMESTAMP.sub('', line)


class Suite:
    def __init__(self, name, module):
        self.name = name
        self.module = module
        self.plan = None
        self.cases = []          # (status, name, directive)
        self.result = None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--log', required=True)
    parser.add_argument('--kunit-module', action='append', default=[],
                        help='a module whose KUnit suites must all pass')
    parser.add_argument('--require-trace-events', action='store_true',
                        help='every gosync trace event must have fired')
    parser.add_argument('--quiet', action='store_true',
                        help='print problems and the closing line only')
    args = parser.parse_args()

    problems = []
    suites = []
    current_module = None
    suite = None
    window_depth = 0
    excused = 0
    finished = False
    reports = []        # [first line, last line, first few lines]
    trace_counts = {}
    report = None

    for number, line in enumerate(read_lines(args.log), 1):
        body = line.strip()
        if body.startswith('gosync-vm: insmod '):
            current_module = body.split()[2]
            continue
        if body.startswith('gosync-vm: insmod-failed') or \
           body.startswith('gosync-vm: rmmod-failed'):
            problems.append('%s (console line %d)' % (body[11:], number))
            continue
        if body.startswith('gosync-vm: trace-events '):
            _, _, event, count = body.split()
            trace_counts[event] = int(count)
            continue
        if body.startswith('gosync-vm: trace-sample '):
            if not args.quiet:
                print('  trace: %s' % body[len('gosync-vm: trace-sample '):])
            continue
        if body == 'gosync-vm: trace-enable-failed':
            problems.append('could not enable the gosync trace events')
            continue
        if body == 'gosync-vm: done':
            finished = True
            continue
        if WINDOW_BEGIN in body:
            window_depth += 1
            continue
        if WINDOW_END in body:
            window_depth = max(0, window_depth - 1)
            continue

        match = SUBTEST.match(line)
        if match and len(match.group(1)) == 4:
            suite = Suite(match.group(2), current_module)
            suites.append(suite)
            continue
        match = PLAN.match(line)
        if match and suite and len(match.group(1)) == 4 and suite.plan is None:
            suite.plan = int(match.group(2))
            continue
        match = RESULT.match(line)
        if match and suite:
            depth = len(match.group(1))
            directive = ''
            if '# SKIP' in match.group(5):
                directive = 'SKIP'
            if depth == 4:
                suite.cases.append((match.group(2), match.group(4), directive))
                if not args.quiet:
                    print('  %s: %s %s %s%s' % (suite.name, match.group(2),
                                                match.group(3), match.group(4),
                                                ' # SKIP' if directive else ''))
                continue
            if depth == 0 and match.group(4) == suite.name:
                suite.result = match.group(2)
                continue
        if (body.startswith('# ') and not body.startswith('# module:') or 'EXPECTATION FAILED' in body or
                'ASSERTION FAILED' in body) and suite and not args.quiet and \
                suite.result is None and line.startswith('    '):
            print('  %s: %s' % (suite.name, body))
        if BAD.search(body):
            if window_depth:
                excused += 1
            elif report is not None and number - report[1] <= REPORT_SPAN:
                report[1] = number
                if len(report[2]) < 3:
                    report[2].append(body)
            else:
                report = [number, number, [body]]
                reports.append(report)

    for first, _, lines in reports:
        problems.append('kernel report outside an expected-warning window '
                        '(console line %d): %s' % (first, ' | '.join(lines)))

    passed = failed = skipped = 0
    for name in args.kunit_module:
        mine = [s for s in suites if s.module == name]
        if not mine:
            problems.append('module %s ran no KUnit suite' % name)
        for s in mine:
            for status, case, directive in s.cases:
                if directive == 'SKIP':
                    skipped += 1
                elif status == 'ok':
                    passed += 1
                else:
                    failed += 1
                    problems.append('%s: case %s failed' % (s.name, case))
            if s.plan is None or len(s.cases) < s.plan:
                missing = (s.plan or 0) - len(s.cases)
                failed += max(missing, 1)
                problems.append('%s: %s of %s cases missing (crash or hang?)'
                                % (s.name, missing if s.plan else '?',
                                   s.plan if s.plan else '?'))
            elif s.result is None:
                problems.append('%s: suite never reported its result' % s.name)
    if not finished:
        problems.append('the VM did not finish (crash, hang or timeout)')
    if args.require_trace_events and finished:
        if not trace_counts:
            problems.append('no gosync trace events were counted')
        for event, count in sorted(trace_counts.items()):
            if not args.quiet:
                print('  trace: %s fired %d times' % (event, count))
            if count == 0:
                problems.append('trace event %s never fired' % event)

    for problem in problems:
        print('FAIL: %s' % problem)
    if excused and not args.quiet:
        print('note: %d kernel report line(s) inside expected-warning windows '
              'were excused' % excused)
    # Harness problems that are not cases still fail the run.
    failed += len([p for p in problems if 'case ' not in p
                   and 'cases missing' not in p])
    if not args.kunit_module:
        if not failed:
            print('console log clean: no warning, BUG, lockdep or hung-task '
                  'report; every module loaded and unloaded')
        return 1 if failed else 0
    line = '%d passed, %d failed' % (passed, failed)
    if skipped:
        line += ', %d skipped' % skipped
    print(line)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
