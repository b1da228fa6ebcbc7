#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn the console logs of tools/vm/bench.sh into a table, a CSV and plots.

Reads the "gosync_bench: csv,..." lines of each console log (one boot per
vCPU count), with the pass they belong to ("gosync-vm: bench-pass ..."),
writes OUT/bench.csv and OUT/table.txt, prints the table, and draws with
gnuplot:

  ratio-<N>cpu.png   gosync / peer per shape (median, and the spread from
                     the extreme rounds), stats=Y and stats=N
  fair-<N>cpu.png    the victim's median, p90 and worst wait per hog count
  map-cost-<N>cpu.png  map ns/op against size, one thread
  map-memory.png     map bytes per entry against size

The peer of each group is the kernel primitive gosync is meant to replace.
"""

import argparse
import csv
import os
import re
import subprocess
import sys

TIMESTAMP = re.compile(r'^\[\s*\d+\.\d+\] ?')
PEER = {'mutex': 'mutex', 'fair': 'mutex', 'wg': 'wait_var_event',
        'once': 'call_once', 'seq': 'seqlock_t', 'map': 'rhashtable'}
FIELDS = ['cpus', 'pass', 'stats', 'group', 'shape', 'param', 'threads',
          'impl', 'median', 'min', 'max', 'unit', 'kernel', 'load']


def read_log(path, loads):
    rows = []
    cpus = kernel = pass_name = stats = preempt = ''
    with open(path, 'rb') as log:
        for raw in log:
            line = TIMESTAMP.sub('', raw.decode('utf-8', 'replace').strip())
            if line.startswith('gosync-vm: boot ok cpus='):
                cpus = line.split('=')[1]
            elif line.startswith('gosync-vm: kernel '):
                kernel = line.split()[2]
            elif line.startswith('gosync-vm: preempt '):
                preempt = line[len('gosync-vm: preempt '):]
            elif line.startswith('gosync-vm: bench-pass '):
                words = line.split()
                pass_name = words[2]
                stats = words[3].split('=')[1]
            elif line.startswith('gosync_bench: csv,'):
                values = line.split(',')[1:]
                if len(values) != 9:
                    continue
                row = dict(zip(FIELDS[3:12], values))
                row.update(cpus=cpus, kernel=kernel, stats=stats,
                           load=loads.get(cpus, ''))
                row['pass'] = pass_name
                rows.append(row)
    return rows, preempt


def read_loads(out):
    loads = {}
    try:
        with open(os.path.join(out, 'load.txt')) as f:
            for line in f:
                cpus, rest = line.split(' ', 1)
                loads[cpus] = rest.strip()
    except OSError:
        pass
    return loads


def key(row):
    return (row['cpus'], row['pass'], row['group'], row['shape'],
            row['param'], row['threads'])


def table(rows):
    """One line per row; gosync rows carry their ratio to every other impl."""
    lines = []
    head = '%-4s %-8s %-5s %-22s %-12s %3s %-22s %11s %23s  %s' % (
        'vCPU', 'pass', 'group', 'shape', 'param', 'thr', 'impl',
        'median', '[min .. max]', 'gosync / this')
    lines.append(head)
    lines.append('-' * len(head))
    by_key = {}
    for row in rows:
        by_key.setdefault(key(row), []).append(row)
    for k, group in by_key.items():
        gosync = [r for r in group if r['impl'].startswith('gosync')]
        for row in group:
            note = ''
            if not row['impl'].startswith('gosync') and gosync:
                parts = []
                for g in gosync:
                    if float(row['median']) > 0:
                        parts.append('%.2f' % (float(g['median']) /
                                               float(row['median'])))
                note = ' '.join(parts)
            lines.append('%-4s %-8s %-5s %-22s %-12s %3s %-22s %11s %23s  %s' % (
                row['cpus'], row['pass'], row['group'], row['shape'],
                row['param'], row['threads'], row['impl'],
                row['median'] + ' ' + row['unit'].split('/')[0],
                '[%s .. %s]' % (row['min'], row['max']), note))
    return lines


def ratios(rows, cpus):
    """(label, pass, ratio, low, high) of gosync vs its group's peer."""
    found = []
    by_key = {}
    for row in rows:
        if row['cpus'] == cpus and row['group'] not in ('map', 'fair'):
            by_key.setdefault(key(row), {})[row['impl']] = row
    for k, impls in by_key.items():
        peer = impls.get(PEER[k[2]])
        if not peer or float(peer['median']) <= 0 or float(peer['min']) <= 0:
            continue
        for name, row in impls.items():
            if not name.startswith('gosync'):
                continue
            label = '%s %s %st' % (k[2], k[3], k[5])
            found.append((label, k[1], float(row['median']) / float(peer['median']),
                          float(row['min']) / float(peer['max']),
                          float(row['max']) / float(peer['min'])))
    return found


# Issue 14's goals: (name, group, shapes, peer, limit), ratios of medians
# in the default pass (stats=Y); the fairness goal is an absolute wait.
GOALS = [
    ('mutex uncontended', 'mutex', ('uncontended',), 'mutex', 1.05),
    ('mutex contended shapes', 'mutex', ('contended', 'work', 'slack', 'long'),
     'mutex', 1.0),
    ('seqlock read', 'seq', ('read',), 'seqlock_t', 1.05),
    ('once', 'once', ('done',), 'call_once', 1.0),
    ('waitgroup', 'wg', ('uncontended', 'add_done', 'wait'), 'wait_var_event',
     1.1),
    ('map load vs rhashtable', 'map', ('load_hit', 'load_miss'), 'rhashtable',
     1.0),
    ('map writes vs rhashtable', 'map',
     ('load_or_store_insert', 'delete'), 'rhashtable', 1.0),
]
FAIR_GOAL_NS = 2e6


def goals(rows):
    """One line per goal and vCPU count: how many rows meet it, the worst."""
    lines = ['goal (median ratio, pass default)  vCPUs  met   worst row']
    for cpus in sorted({r['cpus'] for r in rows}, key=int):
        mine = [r for r in rows if r['cpus'] == cpus and r['pass'] == 'default']
        index = {(r['group'], r['shape'], r['param'], r['threads'], r['impl']): r
                 for r in mine}
        for name, group, shapes, peer, limit in GOALS:
            found = []
            for r in mine:
                if r['group'] != group or r['shape'] not in shapes or \
                        not r['impl'].startswith('gosync'):
                    continue
                p = index.get((group, r['shape'], r['param'], r['threads'],
                               peer))
                if p and float(p['median']) > 0:
                    found.append((float(r['median']) / float(p['median']),
                                  '%s %s %st' % (r['shape'], r['param'],
                                                 r['threads'])))
            if not found:
                continue
            met = sum(1 for ratio, _ in found if ratio <= limit)
            worst = max(found)
            lines.append('%-34s %5s %3d/%-3d %.2f (%s), goal <= %.2f' % (
                name, cpus, met, len(found), worst[0], worst[1].strip(),
                limit))
        worst = [r for r in mine if r['group'] == 'fair' and
                 r['shape'] == 'worst' and r['impl'] == 'gosync']
        for r in worst:
            peer = [p for p in mine if p['group'] == 'fair' and
                    p['shape'] == 'worst' and p['impl'] == 'mutex' and
                    p['param'] == r['param']]
            lines.append('%-34s %5s %s  %.2f ms (struct mutex %s ms), goal <= %.0f ms' % (
                'fair worst wait, ' + r['param'], cpus,
                'met ' if float(r['median']) <= FAIR_GOAL_NS else 'MISS',
                float(r['median']) / 1e6,
                '%.2f' % (float(peer[0]['median']) / 1e6) if peer else '?',
                FAIR_GOAL_NS / 1e6))
    return lines


def gnuplot(script):
    """Run gnuplot; a plot it cannot draw is reported, not fatal."""
    done = subprocess.run(['gnuplot'], input=script, text=True,
                          capture_output=True)
    if done.returncode:
        print('bench: gnuplot failed: %s' % done.stderr.strip()[-300:],
              file=sys.stderr)


def plot_ratios(out, rows, cpus, title):
    found = ratios(rows, cpus)
    if not found:
        return None
    labels = []
    for label, _, _, _, _ in found:
        if label not in labels:
            labels.append(label)
    data = os.path.join(out, 'ratio-%scpu.dat' % cpus)
    with open(data, 'w') as f:
        for pass_name in ('default', 'nostats'):
            f.write('# %s\n' % pass_name)
            for label, p, r, lo, hi in found:
                if p == pass_name:
                    f.write('%d %g %g %g\n' % (labels.index(label), r, lo, hi))
            f.write('\n\n')
    png = os.path.join(out, 'ratio-%scpu.png' % cpus)
    xtics = ', '.join('"%s" %d' % (l, i) for i, l in enumerate(labels))
    gnuplot('''set terminal pngcairo noenhanced size 1400,700
set output "%s"
set title "gosync / kernel peer, median of rounds (bars: extreme rounds), %s vCPUs\\n%s"
set logscale y
set ylabel "time ratio (below 1: gosync faster)"
set xtics rotate by -60 (%s)
set grid ytics
set key top left
plot 1 notitle lc rgb "gray", \\
  "%s" index 0 using ($1-0.15):2:3:4 with yerrorbars pt 7 title "stats=Y", \\
  "%s" index 1 using ($1+0.15):2:3:4 with yerrorbars pt 5 title "stats=N"
''' % (png, cpus, title, xtics, data, data))
    return png


def plot_fair(out, rows, cpus, title):
    fair = [r for r in rows if r['cpus'] == cpus and r['group'] == 'fair']
    if not fair:
        return None
    series = []
    for r in fair:
        name = r['impl'] if r['pass'] == 'default' else '%s (%s)' % (
            r['impl'], r['pass'])
        if name not in series:
            series.append(name)
    params = []
    for r in fair:
        if r['param'] not in params:
            params.append(r['param'])
    data = os.path.join(out, 'fair-%scpu.dat' % cpus)
    with open(data, 'w') as f:
        for shape in ('median', 'p90', 'worst'):
            f.write('# %s\n' % shape)
            for r in fair:
                if r['shape'] != shape:
                    continue
                name = r['impl'] if r['pass'] == 'default' else '%s (%s)' % (
                    r['impl'], r['pass'])
                x = params.index(r['param']) * (len(series) + 1) + \
                    series.index(name)
                f.write('%d %g %g %g "%s"\n' % (
                    x, float(r['median']) / 1000, float(r['min']) / 1000,
                    float(r['max']) / 1000, name))
            f.write('\n\n')
    png = os.path.join(out, 'fair-%scpu.png' % cpus)
    xtics = ', '.join('"%s" %g' % (p, i * (len(series) + 1) + (len(series) - 1) / 2)
                      for i, p in enumerate(params))
    gnuplot('''set terminal pngcairo noenhanced size 1200,600
set output "%s"
set title "victim wait for the lock vs hogs holding ~100 us, %s vCPUs (bars: extreme rounds)\\n%s\\nseries left to right: %s"
set logscale y
set ylabel "wait (us)"
set xtics (%s)
set grid ytics
plot "%s" index 0 using 1:2:3:4 with yerrorbars pt 7 title "median", \\
  "%s" index 1 using ($1+0.1):2:3:4 with yerrorbars pt 5 title "p90", \\
  "%s" index 2 using ($1+0.2):2:3:4 with yerrorbars pt 9 title "worst"
''' % (png, cpus, title, ', '.join(series), xtics, data, data, data))
    return png


def size_of(param):
    return int(param.split('=')[1])


def plot_map(out, rows, cpus, shapes, unit, name, ylabel, title):
    """One panel per shape: each implementation's cost against map size."""
    chosen = [r for r in rows if r['group'] == 'map' and r['cpus'] == cpus and
              r['threads'] == '1' and r['shape'] in shapes and
              r['pass'] == 'default' and r['unit'] == unit and
              float(r['median']) > 0]
    if not chosen:
        return None
    shapes = [s for s in shapes if any(r['shape'] == s for r in chosen)]
    impls = []
    for r in chosen:
        if r['impl'] not in impls:
            impls.append(r['impl'])
    data = os.path.join(out, name + '.dat')
    with open(data, 'w') as f:
        for shape in shapes:
            for impl in impls:
                f.write('# %s %s\n' % (shape, impl))
                for r in sorted(chosen, key=lambda r: size_of(r['param'])):
                    if (r['impl'], r['shape']) == (impl, shape):
                        f.write('%d %s %s %s\n' % (size_of(r['param']),
                                                   r['median'], r['min'],
                                                   r['max']))
                f.write('\n\n')
    png = os.path.join(out, name + '.png')
    cols = min(3, len(shapes))
    rows_n = (len(shapes) + cols - 1) // cols
    script = ['set terminal pngcairo noenhanced size %d,%d' % (
                  500 * cols, 420 * rows_n + 60),
              'set output "%s"' % png,
              'set multiplot layout %d,%d title "%s, %s"' % (rows_n, cols,
                                                              ylabel, title),
              'set logscale xy', 'set xrange [500:2000000]',
              'set xlabel "entries"', 'set grid', 'set key top left']
    for n, shape in enumerate(shapes):
        script.append('set title "%s"' % shape)
        script.append('plot ' + ', '.join(
            '"%s" index %d using 1:2:3:4 with yerrorlines title "%s"' % (
                data, n * len(impls) + i, impl)
            for i, impl in enumerate(impls)))
    script.append('unset multiplot')
    gnuplot('\n'.join(script) + '\n')
    return png


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', required=True)
    parser.add_argument('--machine', help='facts to print above the table')
    parser.add_argument('logs', nargs='+')
    args = parser.parse_args()

    loads = read_loads(args.out)
    rows = []
    preempt = {}
    for path in args.logs:
        found, model = read_log(path, loads)
        rows += found
        if found:
            preempt[found[0]['cpus']] = model
    if not rows:
        print('bench: no results in %s' % ' '.join(args.logs), file=sys.stderr)
        return 1

    with open(os.path.join(args.out, 'bench.csv'), 'w', newline='') as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)

    head = []
    if args.machine:
        with open(args.machine) as f:
            head = [line.rstrip('\n') for line in f]
    for cpus, model in sorted(preempt.items()):
        head.append('%s vCPUs: preempt model "%s", host load (1/5/15 min) '
                    'before / after: %s' % (cpus, model, loads.get(cpus, '?')))
    lines = head + [''] + table(rows) + [''] + goals(rows)
    with open(os.path.join(args.out, 'table.txt'), 'w') as f:
        f.write('\n'.join(lines) + '\n')
    print('\n'.join(lines))

    title = rows[0]['kernel'] + ', QEMU TCG'
    made = []
    for cpus in sorted({r['cpus'] for r in rows}, key=int):
        made.append(plot_ratios(args.out, rows, cpus, title))
        made.append(plot_fair(args.out, rows, cpus, title))
        made.append(plot_map(args.out, rows, cpus,
                             ('load_hit', 'load_miss', 'load_or_store_insert',
                              'delete', 'range'), 'ns/op',
                             'map-cost-%scpu' % cpus, 'ns per operation (1 thread)',
                             title + ', %s vCPUs' % cpus))
    made.append(plot_map(args.out, rows, sorted({r['cpus'] for r in rows})[0],
                         ('bytes_per_entry',), 'B/entry', 'map-memory',
                         'bytes per entry (page allocator delta)', title))
    print('\nCSV: %s' % os.path.join(args.out, 'bench.csv'))
    for png in made:
        if png:
            print('plot: %s' % png)
    return 0


if __name__ == '__main__':
    sys.exit(main())
