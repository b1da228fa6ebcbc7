#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Judge a gosync test VM console log.

Prints every KUnit case result of the named modules, then a closing line
"N passed, N failed, N skipped", and exits 1 when anything failed: a failed,
missing, unexpected or unlisted skipped case, a module that did not load or
unload, a VM that did not finish, fewer CPUs than asked for, lockdep turned
off, an unexpected taint, a kmemleak report, or any kernel warning, BUG,
oops, lockdep, KASAN, KCSAN, RCU, hung-task or soft-lockup report that an
expected-warning window does not excuse.

Expected-warning windows (include/gosync/testing.h) are the console lines
"gosync: expect-warning begin pid=P" and "gosync: expect-warning end pid=P".
A window excuses only reports of the WARNING class ("WARNING: CPU: n PID: P
at ...") raised by the task P that opened it; never a lockdep, KASAN, KCSAN,
UBSAN, debug-objects, list-corruption, RCU-stall, hung-task or BUG: report.
A window that is never closed, or closed without being opened, fails.
"""

import argparse
import re
import sys

TIMESTAMP = re.compile(r'^\[\s*\d+\.\d+\] ?')
SUBTEST = re.compile(r'^(\s*)# Subtest: (\S+)')
PLAN = re.compile(r'^(\s*)1\.\.(\d+)')
RESULT = re.compile(r'^(\s*)(ok|not ok) (\d+) (\S+)(.*)$')
# Any line of a kernel report.  Lines of one report (cut here, WARNING,
# Call Trace...) within REPORT_SPAN console lines of each other are one
# report, judged as a whole.
BAD = re.compile(
    r'WARNING:|BUG:|kernel BUG at|Oops|Kernel panic|Call Trace:|cut here|end trace|INFO: |'
    r'possible (circular|recursive) locking|inconsistent lock state|'
    r'suspicious RCU usage|soft lockup|hard LOCKUP|rcu_.*stall|'
    r'KASAN|KCSAN|UBSAN|DEBUG_LOCKS_WARN_ON|general protection fault|'
    r'non-static key|sleeping function called|unreferenced object|'
    r'bad unlock balance|held lock freed|scheduling while atomic|'
    r'ODEBUG|list_\w+ corruption|refcount_t:|suspected memory leak|'
    r'stack-protector|invalid opcode|blocked for more than')
# The one report a window may excuse: a WARN() of the task that opened it.
WARN_HEADER = re.compile(r'WARNING: CPU: \d+ PID: (\d+) at (.*)')
# The first line of a report of any kind: it starts a report of its own.
REPORT_START = re.compile(r'(^|: )(BUG|WARNING|INFO|UBSAN):|^unreferenced object|'
                          r'^Kernel panic|^Oops|^general protection fault|'
                          r'^kernel BUG at')
# Lines that belong to any report and say nothing about its kind.
NEUTRAL = re.compile(r'Call Trace:|cut here|end trace')
# WARN()s raised by the checkers themselves are never excused.
CHECKER_SOURCE = re.compile(r'kernel/locking/lockdep|mm/kasan/|kernel/kcsan/|'
                            r'mm/kmemleak|lib/debugobjects|lib/list_debug|'
                            r'kernel/rcu/|lib/refcount')
REPORT_SPAN = 80
WINDOW = re.compile(r'gosync: expect-warning (begin|end)(?: pid=(\d+))?')
# Taints a passing run may carry: out-of-tree (O), unsigned (E) and test
# (N) modules; W only when an expected-warning window excused a WARN.
TAINT_LETTERS = 'PFSRMBUDAWCIOELKXTN'
TAINT_ALLOWED = {'O', 'E', 'N'}

# API.md: the counters that /sys/kernel/debug/gosync/stats has at least.
STATS_REQUIRED = '''
mutex.acquired mutex.contended mutex.slept mutex.spin_acquired
mutex.starvation_entered mutex.handoffs mutex.misuse mutex.wait_ns_max
wg.add wg.wait wg.wakeups wg.misuse once.run once.failed
seq.read seq.retry seq.write map.load map.load_hit map.store map.delete
map.entries map.alloc_fail'''.split()
LOCKS_HEADER = ['#', 'class', 'acquired', 'contended', 'wait_total_ns',
                'wait_max_ns', 'starved', 'handoffs', 'top_holder']
WAIT_HIST_HEADER = ['#', 'kind', 'from_ns', 'to_ns', 'count']
WAIT_KINDS = ['mutex', 'waitgroup', 'once']
# gosync_torture's verdict, and an invariant it saw broken.
TORTURE_END = re.compile(r'gosync_torture: End of test: (SUCCESS|FAILURE)(.*)')
TORTURE_FAIL = re.compile(r'gosync_torture: FAIL .*')
HOLDER = re.compile(r'^(-|\S+\+0x[0-9a-f]+/0x[0-9a-f]+( \[\S+\])?)$')


# A kernel record that cut into a line of user-space output on the serial
# console: "gosync-vm: boot [    3.36] clocksource: ..." then "ok cpus=2".
CUT_IN = re.compile(r'^(.+?)(\[\s*\d+\.\d+\] .*)$')


def read_lines(path):
    """Yield (from the kernel, text without timestamp) per console line,
    with user-space lines that a kernel record cut in two put together."""
    held = None
    with open(path, 'rb') as log:
        for raw in log:
            line = raw.decode('utf-8', 'replace').rstrip('\r\n').rstrip('\r')
            # The rest of a cut line is the very next line, or there is none.
            rest, held = held, None
            if TIMESTAMP.match(line) is None:
                match = CUT_IN.match(line)
                if rest is not None and not match:
                    line, rest = rest + line, None
                elif match:
                    held = match.group(1)
                    line = match.group(2)
            if rest is not None:
                yield False, rest
            yield TIMESTAMP.match(line) is not None, TIMESTAMP.sub('', line)
        if held is not None:
            yield False, held


def read_case_list(path):
    """Lines "suite case [reason...]"; '#' starts a comment."""
    cases = {}
    with open(path) as listing:
        for number, line in enumerate(listing, 1):
            line = line.split('#', 1)[0].strip()
            if not line:
                continue
            words = line.split(None, 2)
            if len(words) < 2:
                raise SystemExit('%s:%d: want "suite case"' % (path, number))
            cases[(words[0], words[1])] = words[2] if len(words) > 2 else ''
    return cases


class Suite:
    def __init__(self, name, module):
        self.name = name
        self.module = module
        self.plan = None
        self.cases = []          # (status, name, directive)
        self.result = None


class Report:
    """One kernel report: a WARN() or another report's lines, with the
    neutral lines (cut here, Call Trace...) around it."""

    def __init__(self, number):
        self.first = self.last = number
        self.lines = []
        self.reasons = []      # lines that make it a failure
        self.excused = 0       # WARNs of a task inside its own window
        self.headed = False    # has a line that says what it is

    def add(self, number, body, windows):
        self.last = number
        if len(self.lines) < 3:
            self.lines.append(body)
        header = WARN_HEADER.search(body)
        if header:
            self.headed = True
            if windows.get(header.group(1)) and \
               not CHECKER_SOURCE.search(header.group(2)):
                self.excused += 1
            else:
                self.reasons.append(body)
        elif not NEUTRAL.search(body):
            self.headed = True
            self.reasons.append(body)

    def problem(self):
        if self.excused and not self.reasons:
            return None
        what = self.reasons or self.lines
        return ('kernel report not excused by an expected-warning window '
                '(console line %d): %s' % (self.first, ' | '.join(what[:3])))


class Checker:
    def __init__(self, args):
        self.args = args
        self.problems = []
        self.failed = 0

    def fail(self, text, count=1):
        """Every problem counts, whatever its text says."""
        self.problems.append(text)
        self.failed += count

    def check_debugfs(self, files):
        for name in ('stats', 'locks', 'wait_hist'):
            if name not in files:
                self.fail('debugfs %s was not read' % name)
        if 'stats' in files:
            self.check_stats(files['stats'])
        if 'locks' in files:
            self.check_locks(files['locks'])
        if 'wait_hist' in files:
            self.check_wait_hist(files['wait_hist'])

    def check_stats(self, lines):
        seen = set()
        for line in lines:
            match = re.match(r'^([a-z0-9_]+\.[a-z0-9_]+) (\d+)$', line)
            if not match:
                self.fail('debugfs stats: malformed line %r' % line)
                continue
            if match.group(1) in seen:
                self.fail('debugfs stats: %s twice' % match.group(1))
            seen.add(match.group(1))
        for name in STATS_REQUIRED:
            if name not in seen:
                self.fail('debugfs stats: no %s (API.md)' % name)

    def check_locks(self, lines):
        if not lines or lines[0].split() != LOCKS_HEADER:
            self.fail('debugfs locks: header is not %s' % ' '.join(LOCKS_HEADER))
            return
        previous = None
        for line in lines[1:]:
            words = line.split(None, 7)
            if len(words) < 8 or not all(w.isdigit() for w in words[1:7]) or \
               not HOLDER.match(words[7]):
                self.fail('debugfs locks: malformed row %r' % line)
                continue
            total, longest = int(words[3]), int(words[4])
            if longest > total:
                self.fail('debugfs locks: wait_max_ns above wait_total_ns: %r'
                          % line)
            if previous is not None and total > previous:
                self.fail('debugfs locks: not sorted by wait_total_ns at %r'
                          % line)
            previous = total
        if len(lines) < 2:
            self.fail('debugfs locks: no row at all')

    def check_wait_hist(self, lines):
        if not lines or lines[0].split() != WAIT_HIST_HEADER:
            self.fail('debugfs wait_hist: header is not %s'
                      % ' '.join(WAIT_HIST_HEADER))
            return
        last = (-1, -1)
        for line in lines[1:]:
            words = line.split()
            if len(words) != 4 or words[0] not in WAIT_KINDS or \
               not all(w.isdigit() for w in words[1:]):
                self.fail('debugfs wait_hist: malformed row %r' % line)
                continue
            low, high, count = (int(w) for w in words[1:])
            if (high != 1) if low == 0 else \
               (low & (low - 1) or high != 2 * low - 1):
                self.fail('debugfs wait_hist: bucket is not a power of two: '
                          '%r' % line)
            if count == 0:
                self.fail('debugfs wait_hist: empty bucket listed: %r' % line)
            order = (WAIT_KINDS.index(words[0]), low)
            if order <= last:
                self.fail('debugfs wait_hist: rows out of order at %r' % line)
            last = order
        if not any(line.startswith('mutex ') for line in lines[1:]):
            self.fail('debugfs wait_hist: no mutex wait was recorded')


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--log', required=True)
    parser.add_argument('--kunit-module', action='append', default=[],
                        help='a module whose KUnit suites must all pass')
    parser.add_argument('--expected-cases', action='append', default=[],
                        metavar='MODULE=FILE',
                        help='every "suite case" of FILE, and no other, '
                        'must run in MODULE')
    parser.add_argument('--allowed-skips', action='append', default=[],
                        metavar='FILE',
                        help='"suite case reason" lines: the only cases '
                        'that may skip')
    parser.add_argument('--cpus', type=int,
                        help='the VM must have booted this many CPUs')
    parser.add_argument('--lockdep', action='store_true',
                        help='lockdep must still be on after the run')
    parser.add_argument('--taint', action='store_true',
                        help='the kernel must carry no unexpected taint')
    parser.add_argument('--kmemleak', action='store_true',
                        help='a kmemleak scan must have run, clean')
    parser.add_argument('--kcsan', action='store_true',
                        help='KCSAN must have been switched on before the '
                        'modules loaded')
    parser.add_argument('--debugfs', action='store_true',
                        help='stats, locks and wait_hist must have been '
                        'read and have their documented shape')
    parser.add_argument('--require-trace-events', action='store_true',
                        help='every gosync trace event must have fired')
    parser.add_argument('--torture', type=int, metavar='N',
                        help='gosync_torture must have printed N verdicts, '
                        'each "End of test: SUCCESS"')
    parser.add_argument('--quiet', action='store_true',
                        help='print problems and the closing line only')
    args = parser.parse_args()

    expected = {}
    for spec in args.expected_cases:
        module, _, path = spec.partition('=')
        expected[module] = read_case_list(path)
    allowed_skips = {}
    for path in args.allowed_skips:
        allowed_skips.update(read_case_list(path))

    check = Checker(args)
    suites = []
    current_module = None
    suite = None
    windows = {}        # pid -> open depth
    window_lines = {}   # pid -> console line of the outermost begin
    windows_used = False
    excused = 0
    finished = False
    reports = []
    report = None
    trace_counts = {}
    cpus = None
    debug_locks = None
    taint = None
    kmemleak_scanned = False
    kcsan_on = False
    debugfs = {}
    debugfs_file = None
    torture = []        # (verdict, counts, console line)
    hang_dump = None    # console line of init.sh's task dump, if any

    for number, (from_kernel, line) in enumerate(read_lines(args.log), 1):
        body = line.strip()
        if debugfs_file is not None and not from_kernel:
            if body == 'gosync-vm: debugfs-end %s' % debugfs_file:
                debugfs_file = None
            elif body:
                debugfs[debugfs_file].append(body)
            continue
        # init.sh's task stacks of a run that outlived 3/4 of VM_TIMEOUT:
        # evidence for a failure reported elsewhere, never a report.
        if body.startswith('gosync-vm: hang-dump'):
            if hang_dump is None:
                hang_dump = number
            continue
        if body.startswith('gosync-vm: insmod '):
            current_module = body.split()[2]
            continue
        if body.startswith('gosync-vm: insmod-failed') or \
           body.startswith('gosync-vm: rmmod-failed') or \
           body.startswith('gosync-vm: debugfs-read-failed') or \
           body.startswith('gosync-vm: kmemleak-failed') or \
           body.startswith('gosync-vm: kcsan-failed'):
            check.fail('%s (console line %d)' % (body[11:], number))
            continue
        if body.startswith('gosync-vm: boot ok cpus='):
            cpus = int(body.split('=', 1)[1])
            continue
        if body.startswith('gosync-vm: debugfs-begin '):
            debugfs_file = body.split()[2]
            debugfs[debugfs_file] = []
            continue
        if body.startswith('gosync-vm: lockdep debug_locks='):
            debug_locks = int(body.split('=', 1)[1])
            continue
        if body.startswith('gosync-vm: tainted '):
            taint = int(body.split()[2])
            continue
        if body == 'gosync-vm: kcsan on':
            kcsan_on = True
            continue
        if body == 'gosync-vm: kmemleak-scanned':
            kmemleak_scanned = True
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
            check.fail('could not enable the gosync trace events')
            continue
        if body == 'gosync-vm: done':
            finished = True
            continue
        match = TORTURE_END.search(body)
        if match:
            torture.append((match.group(1), match.group(2).lstrip(': '),
                            number))
            continue
        match = TORTURE_FAIL.search(body)
        if match and args.torture is not None:
            if not args.quiet:
                print('  torture: %s' % match.group(0))
            continue
        match = WINDOW.search(body)
        if match:
            pid = match.group(2)
            if pid is None:
                check.fail('expected-warning marker without a pid (console '
                           'line %d): rebuild against include/gosync/'
                           'testing.h' % number)
            elif match.group(1) == 'begin':
                windows_used = True
                if not windows.get(pid):
                    window_lines[pid] = number
                windows[pid] = windows.get(pid, 0) + 1
            elif windows.get(pid):
                windows[pid] -= 1
            else:
                check.fail('expected-warning window of pid %s closed but never '
                           'opened (console line %d)' % (pid, number))
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
            if re.match(r'\s*#\s*SKIP', match.group(5)):
                directive = 'SKIP'
            if depth == 4:
                suite.cases.append((match.group(2), match.group(4), directive))
                if not args.quiet:
                    print('  %s: %s %s %s%s' % (suite.name, match.group(2),
                                                match.group(3), match.group(4),
                                                match.group(5)))
                continue
            if depth == 0 and match.group(4) == suite.name:
                suite.result = match.group(2)
                continue
        if (body.startswith('# ') and not body.startswith('# module:') or
                'EXPECTATION FAILED' in body or 'ASSERTION FAILED' in body) \
                and suite and not args.quiet and suite.result is None and \
                line.startswith('    '):
            print('  %s: %s' % (suite.name, body))
        if BAD.search(body):
            # Every report is judged on its own; a line that does not
            # start one joins the report just before it.
            near = report is not None and number - report.last <= REPORT_SPAN
            if not near or (REPORT_START.search(body) and report.headed):
                report = Report(number)
                reports.append(report)
            report.add(number, body, windows)

    for report in reports:
        excused += report.excused
        problem = report.problem()
        if problem:
            check.fail(problem)
    for pid, depth in sorted(windows.items()):
        if depth:
            check.fail('expected-warning window of pid %s opened at console '
                       'line %d never closed' % (pid, window_lines[pid]))

    passed = skipped = 0
    for name in args.kunit_module:
        mine = [s for s in suites if s.module == name]
        if not mine:
            check.fail('module %s ran no KUnit suite' % name)
        ran = set()
        for s in mine:
            for status, case, directive in s.cases:
                ran.add((s.name, case))
                if directive == 'SKIP' and (s.name, case) in allowed_skips:
                    skipped += 1
                elif directive == 'SKIP':
                    check.fail('%s: case %s skipped, and no allowed-skips '
                               'list allows it' % (s.name, case))
                elif status == 'ok':
                    passed += 1
                else:
                    check.fail('%s: case %s failed' % (s.name, case))
            if s.plan is None or len(s.cases) < s.plan:
                missing = (s.plan or 0) - len(s.cases)
                check.fail('%s: %s of %s cases missing (crash or hang?)'
                           % (s.name, missing if s.plan else '?',
                              s.plan if s.plan else '?'), max(missing, 1))
            elif s.result is None:
                check.fail('%s: suite never reported its result' % s.name)
        if name in expected:
            for suite_name, case in sorted(set(expected[name]) - ran):
                check.fail('%s: case %s is in the manifest but did not run'
                           % (suite_name, case))
            for suite_name, case in sorted(ran - set(expected[name])):
                check.fail('%s: case %s ran but is not in the manifest'
                           % (suite_name, case))
    for name in expected:
        if name not in args.kunit_module:
            check.fail('manifest given for %s, which is not a KUnit module'
                       % name)

    torture_summary = ''
    if args.torture is not None:
        if len(torture) != args.torture:
            check.fail('gosync_torture gave %d verdicts, not %d'
                       % (len(torture), args.torture))
        for verdict, counts, number in torture:
            if verdict == 'SUCCESS':
                passed += 1
            else:
                check.fail('gosync_torture: End of test: FAILURE (console '
                           'line %d): %s' % (number, counts))
        if torture:
            verdict, counts, _ = torture[0]
            torture_summary = '; torture %s: %s' % (verdict, counts)
            if len(torture) > 1:
                torture_summary += '; %d of %d load/unload cycles SUCCESS' % (
                    sum(t[0] == 'SUCCESS' for t in torture[1:]),
                    len(torture) - 1)
    if not finished:
        check.fail('the VM did not finish (crash, hang or timeout)%s'
                   % (('; task stacks at console line %d (gosync-vm: hang-dump)'
                       % hang_dump) if hang_dump else ''))
    if args.cpus is not None and cpus != args.cpus:
        check.fail('the VM booted %s CPUs, not %d' % (cpus, args.cpus))
    if args.lockdep and finished and debug_locks != 1:
        check.fail('lockdep was turned off during the run (debug_locks=%s)'
                   % debug_locks)
    if args.taint and finished:
        if taint is None:
            check.fail('the kernel taint was not reported')
        else:
            allowed = TAINT_ALLOWED | ({'W'} if windows_used else set())
            letters = [TAINT_LETTERS[bit] if bit < len(TAINT_LETTERS)
                       else str(bit) for bit in range(taint.bit_length())
                       if taint >> bit & 1]
            bad = [t for t in letters if t not in allowed]
            if bad:
                check.fail('the kernel is tainted %s (allowed: %s)'
                           % (''.join(bad), ''.join(sorted(allowed))))
    if args.kcsan and not kcsan_on:
        check.fail('KCSAN was not switched on: no data race could be seen')
    if args.kmemleak and finished and not kmemleak_scanned:
        check.fail('no kmemleak scan ran after the modules were unloaded')
    if args.debugfs and finished:
        check.check_debugfs(debugfs)
    if args.require_trace_events and finished:
        if not trace_counts:
            check.fail('no gosync trace events were counted')
        for event, count in sorted(trace_counts.items()):
            if not args.quiet:
                print('  trace: %s fired %d times' % (event, count))
            if count == 0:
                check.fail('trace event %s never fired' % event)

    for problem in check.problems:
        print('FAIL: %s' % problem)
    if excused and not args.quiet:
        print('note: %d warning(s) inside expected-warning windows of the '
              'task that opened them were excused' % excused)
    if not args.kunit_module and args.torture is None:
        if not check.failed:
            print('console log clean: no warning, BUG, lockdep or hung-task '
                  'report; every module loaded and unloaded')
        return 1 if check.failed else 0
    print('%d passed, %d failed, %d skipped%s' % (passed, check.failed, skipped,
                                                  torture_summary))
    return 1 if check.failed else 0


if __name__ == '__main__':
    sys.exit(main())
