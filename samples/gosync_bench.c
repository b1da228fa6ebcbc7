// SPDX-License-Identifier: GPL-2.0
/*
 * gosync_bench: gosync against the kernel's own primitives, in the same
 * boot.  "make bench" loads it on Debian's stock kernel (no lockdep); it
 * measures at load time and prints one CSV line per (shape, implementation):
 *
 *   gosync_bench: csv,GROUP,SHAPE,PARAM,THREADS,IMPL,MEDIAN,MIN,MAX,UNIT
 *
 * Method (Documentation/benchmarks.rst):
 *  - every implementation of a shape runs in the same boot, interleaved:
 *    one warm-up round, then @reps rounds of "each implementation once";
 *    the median, minimum and maximum over the rounds are reported;
 *  - the warm-up round also sets the operation count of the shape, the
 *    same for every implementation, so that the slowest one takes about
 *    @round_ms per round;
 *  - worker kthreads are created, bound round-robin to the online CPUs and
 *    parked on a start barrier before the clock starts; the time of a round
 *    runs from the barrier's release to the last worker's end;
 *  - uncontended shapes give every worker its own object on its own cache
 *    line; contended shapes share one object;
 *  - shapes follow Go's own benchmarks (the _test.go files of Go's src/sync).
 *
 * The module holds nothing after it returned from init: unload it at once.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/call_once.h>
#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/hash.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/once.h>
#include <linux/rhashtable.h>
#include <linux/seqlock.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/spinlock.h>
#include <linux/vmalloc.h>
#include <linux/vmstat.h>
#include <linux/wait_bit.h>

#include <gosync/gosync.h>

static unsigned int reps = 5;
module_param(reps, uint, 0444);
MODULE_PARM_DESC(reps, "Measured rounds per shape, after one warm-up (1..15)");

static unsigned int round_ms = 10;
module_param(round_ms, uint, 0444);
MODULE_PARM_DESC(round_ms, "Target length of one round (ms); the warm-up round sets the operation count");

static unsigned int fair_ms = 1000;
module_param(fair_ms, uint, 0444);
MODULE_PARM_DESC(fair_ms, "Time budget of one fairness run (ms)");

static char *groups = "mutex,fair,wg,once,seq,map";
module_param(groups, charp, 0444);
MODULE_PARM_DESC(groups, "Comma-separated groups: mutex fair wg once seq map");

static char *map_sizes = "1024,65536,1048576";
module_param(map_sizes, charp, 0444);
MODULE_PARM_DESC(map_sizes, "Comma-separated map sizes (entries)");

static char *fair_label = "gosync";
module_param(fair_label, charp, 0444);
MODULE_PARM_DESC(fair_label, "Name of the gosync row of the fairness shape");

static bool fair_peer = true;
module_param(fair_peer, bool, 0444);
MODULE_PARM_DESC(fair_peer, "Measure struct mutex in the fairness shape too");

#define BENCH_MAX_REPS		15
#define BENCH_MAX_THREADS	64
/* Iterations of Go's MutexWork "local work" between two sections. */
#define BENCH_LOCAL_WORK	100
/* Iterations of work inside the long critical section. */
#define BENCH_LONG_WORK		1000

/*
 * One worker's objects, on cache lines of their own: the uncontended shapes
 * use slot[i] in worker i, the contended shapes all use slot[0].
 */
struct bench_slot {
	struct gosync_mutex gm;
	/* The kernel's peer of @gm: protects @sink in its shapes. */
	struct mutex km;
	/* The reference: protects @sink in its shapes. */
	spinlock_t sl;
	struct gosync_waitgroup wg;
	struct completion done;
	atomic_t var;
	unsigned long sink;
} ____cacheline_aligned_in_smp;

static struct bench_slot bench_slots[BENCH_MAX_THREADS];

struct bench_run;

/* One worker kthread of a round; padded so workers share no line. */
struct bench_worker {
	struct bench_run *run;
	struct task_struct *task;
	unsigned int index;
	unsigned long ops;
	u64 rng;
	u64 end_ns;
} ____cacheline_aligned_in_smp;

/* What a worker does in the timed region: @w->ops operations. */
typedef void (*bench_fn)(struct bench_worker *w);

struct bench_run {
	bench_fn fn;
	void *ctx;
	unsigned int threads;
	atomic_t ready;
	atomic_t left;
	struct completion start;
	struct completion done;
	struct bench_worker worker[BENCH_MAX_THREADS];
};

/* One implementation of a shape: its name and what its workers run. */
struct bench_impl {
	const char *name;
	bench_fn fn;
};

static int bench_worker_main(void *arg)
{
	struct bench_worker *w = arg;
	struct bench_run *run = w->run;

	if (atomic_inc_return(&run->ready) == run->threads)
		wake_up_var(&run->ready);
	wait_for_completion(&run->start);
	run->fn(w);
	w->end_ns = ktime_get_ns();
	if (atomic_dec_and_test(&run->left))
		complete(&run->done);
	return 0;
}

static struct bench_run *bench_run;

/*
 * bench_time() - run @fn on @threads workers, @ops operations each, with
 * @ctx for them to share; returns the wall time of the round in ns, or 0
 * when the workers could not be created.  Workers exist and wait on the
 * start barrier before the clock starts.
 */
static u64 bench_time(bench_fn fn, void *ctx, unsigned int threads,
		      unsigned long ops)
{
	struct bench_run *run = bench_run;
	unsigned int i, cpu = nr_cpu_ids;
	u64 start, end = 0;

	if (threads > BENCH_MAX_THREADS)
		return 0;
	run->fn = fn;
	run->ctx = ctx;
	run->threads = threads;
	atomic_set(&run->ready, 0);
	atomic_set(&run->left, threads);
	init_completion(&run->start);
	init_completion(&run->done);
	for (i = 0; i < threads; i++) {
		struct bench_worker *w = &run->worker[i];

		w->run = run;
		w->index = i;
		w->ops = ops;
		w->rng = 0x9e3779b97f4a7c15ULL * (i + 1);
		cpu = cpumask_next(cpu < nr_cpu_ids ? cpu : -1, cpu_online_mask);
		if (cpu >= nr_cpu_ids)
			cpu = cpumask_first(cpu_online_mask);
		w->task = kthread_create(bench_worker_main, w, "gosync-bench/%u", i);
		if (IS_ERR(w->task))
			break;
		kthread_bind(w->task, cpu);
	}
	if (i < threads) {
		/* Let the ones created run to the end with nothing to do. */
		run->fn = NULL;
		while (i--)
			kthread_stop(run->worker[i].task);
		return 0;
	}
	for (i = 0; i < threads; i++)
		wake_up_process(run->worker[i].task);
	wait_var_event(&run->ready, atomic_read(&run->ready) == threads);
	start = ktime_get_ns();
	complete_all(&run->start);
	wait_for_completion(&run->done);
	for (i = 0; i < threads; i++)
		end = max(end, run->worker[i].end_ns);
	return end - start;
}

static u64 bench_rand(struct bench_worker *w)
{
	/* xorshift64: cheap, and every worker has its own sequence. */
	w->rng ^= w->rng << 13;
	w->rng ^= w->rng >> 7;
	w->rng ^= w->rng << 17;
	return w->rng;
}

/* Go's MutexWork local work: keeps the CPU busy without memory traffic. */
static noinline void bench_work(unsigned int n)
{
	unsigned long v = 1;

	while (n--) {
		v *= 2;
		v /= 2;
		barrier();
	}
	OPTIMIZER_HIDE_VAR(v);
}

static int bench_cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* Hundredths of a unit, printed as "12.34". */
static void bench_print(const char *group, const char *shape,
			const char *param, unsigned int threads,
			const char *impl, u64 *v, unsigned int n, u64 div,
			const char *unit)
{
	u64 med, lo, hi;

	if (!n || !div)
		return;
	sort(v, n, sizeof(*v), bench_cmp_u64, NULL);
	med = div64_u64(v[n / 2] * 100, div);
	lo = div64_u64(v[0] * 100, div);
	hi = div64_u64(v[n - 1] * 100, div);
	pr_info("csv,%s,%s,%s,%u,%s,%llu.%02llu,%llu.%02llu,%llu.%02llu,%s\n",
		group, shape, param, threads, impl, med / 100, med % 100,
		lo / 100, lo % 100, hi / 100, hi % 100, unit);
}

/* Operations per worker of a warm-up round: @base in all. */
static unsigned long bench_ops(unsigned long base, unsigned int threads)
{
	return max(1UL, base / threads);
}

#define BENCH_MAX_IMPL	5

/*
 * bench_rounds() - the interleaved measurement of one shape: a warm-up
 * round of every implementation, then @reps rounds of each in turn, *@ops
 * operations per worker.  When @max_ops is not 0, the warm-up round scales
 * *@ops so that the slowest implementation takes about @round_ms, at most
 * @max_ops.  When @then is given, then[i] runs right after impl[i] in every
 * round (an undo that must pair with it) and is timed into @tv.  Returns
 * false when the workers could not be created.
 */
static bool bench_rounds(const struct bench_impl *impl,
			 const struct bench_impl *then, unsigned int nr_impl,
			 void *ctx, unsigned int threads, unsigned long *ops,
			 unsigned long max_ops, u64 (*v)[BENCH_MAX_REPS],
			 u64 (*tv)[BENCH_MAX_REPS])
{
	unsigned int r, i;
	u64 ns, tns = 1, slowest = 0;

	for (r = 0; r <= reps; r++) {
		if (r == 1 && max_ops && slowest)
			*ops = clamp_t(u64, div64_u64((u64)*ops * round_ms *
						      NSEC_PER_MSEC, slowest),
				       1, max_ops);
		for (i = 0; i < nr_impl; i++) {
			ns = bench_time(impl[i].fn, ctx, threads, *ops);
			if (then)
				tns = bench_time(then[i].fn, ctx, threads, *ops);
			if (!ns || !tns)
				return false;
			slowest = max(slowest, ns);
			if (r && then)
				tv[i][r - 1] = tns;
			if (r)
				v[i][r - 1] = ns;
		}
		cond_resched();
	}
	return true;
}

/* Print one CSV line per implementation of a shape measured by bench_rounds(). */
static void bench_report(const char *group, const char *shape,
			 const char *param, const struct bench_impl *impl,
			 unsigned int nr_impl, unsigned int threads,
			 u64 (*v)[BENCH_MAX_REPS], u64 div)
{
	unsigned int i;

	for (i = 0; i < nr_impl; i++)
		bench_print(group, shape, param, threads, impl[i].name, v[i],
			    reps, div, "ns/op");
}

/* bench_shape() - measure and report one shape, in ns per operation. */
static void bench_shape(const char *group, const char *shape,
			const char *param, const struct bench_impl *impl,
			unsigned int nr_impl, void *ctx, unsigned int threads,
			unsigned long base)
{
	u64 v[BENCH_MAX_IMPL][BENCH_MAX_REPS];
	unsigned long ops = bench_ops(base, threads);

	if (nr_impl > BENCH_MAX_IMPL ||
	    !bench_rounds(impl, NULL, nr_impl, ctx, threads, &ops, ops * 1000,
			  v, NULL)) {
		pr_err("%s/%s: could not run\n", group, shape);
		return;
	}
	bench_report(group, shape, param, impl, nr_impl, threads, v,
		     ops * threads);
}

static struct bench_slot *bench_slot(struct bench_worker *w)
{
	return w->run->ctx ? w->run->ctx : &bench_slots[w->index];
}

/*
 * Mutex: a lock/unlock pair over a lock of each kind, inlined per kind,
 * so that the loop calls each kind's lock as a client's code would: an
 * inline fast path (gosync_mutex_lock()) lands in the loop, an exported
 * function (mutex_lock()) is called from it.
 */
static __always_inline void bench_gm_lock(struct bench_slot *s)
	__acquires(&s->gm)
{
	gosync_mutex_lock(&s->gm);
}

static __always_inline void bench_gm_unlock(struct bench_slot *s)
	__releases(&s->gm)
{
	gosync_mutex_unlock(&s->gm);
}

static __always_inline void bench_km_lock(struct bench_slot *s)
{
	mutex_lock(&s->km);
}

static __always_inline void bench_km_unlock(struct bench_slot *s)
{
	mutex_unlock(&s->km);
}

static __always_inline void bench_sl_lock(struct bench_slot *s)
	__acquires(&s->sl)
{
	spin_lock(&s->sl);
}

static __always_inline void bench_sl_unlock(struct bench_slot *s)
	__releases(&s->sl)
{
	spin_unlock(&s->sl);
}

static __always_inline void bench_lock_loop(struct bench_worker *w,
					    void (*lock)(struct bench_slot *),
					    void (*unlock)(struct bench_slot *),
					    unsigned int inside,
					    unsigned int outside)
{
	struct bench_slot *s = bench_slot(w);
	unsigned long n = w->ops;

	while (n--) {
		lock(s);
		s->sink++;
		if (inside)
			bench_work(inside);
		unlock(s);
		if (outside)
			bench_work(outside);
	}
}

#define BENCH_LOCK_FNS(kind)						\
static void bench_##kind##_empty(struct bench_worker *w)		\
{									\
	bench_lock_loop(w, bench_##kind##_lock, bench_##kind##_unlock, 0, 0); \
}									\
static void bench_##kind##_work(struct bench_worker *w)			\
{									\
	bench_lock_loop(w, bench_##kind##_lock, bench_##kind##_unlock,	\
			0, BENCH_LOCAL_WORK);				\
}									\
static void bench_##kind##_long(struct bench_worker *w)			\
{									\
	bench_lock_loop(w, bench_##kind##_lock, bench_##kind##_unlock,	\
			BENCH_LONG_WORK, 0);				\
}

BENCH_LOCK_FNS(gm)
BENCH_LOCK_FNS(km)
BENCH_LOCK_FNS(sl)

static const unsigned int bench_thread_counts[] = { 1, 2, 4 };

static void bench_mutex(void)
{
	static const struct bench_impl empty[] = {
		{ "gosync_mutex", bench_gm_empty }, { "mutex", bench_km_empty },
		{ "spinlock", bench_sl_empty },
	};
	static const struct bench_impl work[] = {
		{ "gosync_mutex", bench_gm_work }, { "mutex", bench_km_work },
		{ "spinlock", bench_sl_work },
	};
	static const struct bench_impl longcs[] = {
		{ "gosync_mutex", bench_gm_long }, { "mutex", bench_km_long },
		{ "spinlock", bench_sl_long },
	};
	unsigned int i, t, slack = 10 * num_online_cpus();

	for (i = 0; i < ARRAY_SIZE(bench_thread_counts); i++) {
		t = bench_thread_counts[i];
		bench_shape("mutex", "uncontended", "", empty, 3, NULL, t, 200000);
	}
	for (i = 1; i < ARRAY_SIZE(bench_thread_counts); i++) {
		t = bench_thread_counts[i];
		bench_shape("mutex", "contended", "", empty, 3, bench_slots, t,
			    100000);
		bench_shape("mutex", "work", "", work, 3, bench_slots, t, 40000);
		bench_shape("mutex", "long", "", longcs, 3, bench_slots, t, 2000);
	}
	bench_shape("mutex", "slack", "", empty, 3, bench_slots, slack, 100000);
}

/*
 * Fairness, after Go's TestMutexFairness: @hogs tasks take the lock and
 * sleep about 100 us holding it, over and over; a victim sleeps about
 * 100 us, then takes the lock once, BENCH_FAIR_SAMPLES times.  The victim's
 * wait for each acquisition is the result: median, p90 and worst.  A run
 * ends after @fair_ms even when the victim got fewer samples: the hogs
 * stop then, so a victim still waiting gets the lock and its last wait is
 * a lower bound.
 */
#define BENCH_FAIR_SAMPLES	100

struct bench_fair {
	bool stop;
	u64 deadline;
	unsigned int samples;
	u64 wait[BENCH_FAIR_SAMPLES];
};

static __always_inline void bench_fair_run(struct bench_worker *w,
					   void (*lock)(struct bench_slot *),
					   void (*unlock)(struct bench_slot *))
{
	struct bench_fair *f = w->run->ctx;
	struct bench_slot *s = &bench_slots[0];
	unsigned int i;
	u64 t;

	if (w->index) {
		while (!READ_ONCE(f->stop) && ktime_get_ns() < f->deadline) {
			lock(s);
			usleep_range(100, 110);
			unlock(s);
		}
		return;
	}
	for (i = 0; i < BENCH_FAIR_SAMPLES && ktime_get_ns() < f->deadline; i++) {
		usleep_range(100, 110);
		t = ktime_get_ns();
		lock(s);
		f->wait[i] = ktime_get_ns() - t;
		unlock(s);
	}
	f->samples = i;
	WRITE_ONCE(f->stop, true);
}

static void bench_fair_gosync(struct bench_worker *w)
{
	bench_fair_run(w, bench_gm_lock, bench_gm_unlock);
}

static void bench_fair_mutex(struct bench_worker *w)
{
	bench_fair_run(w, bench_km_lock, bench_km_unlock);
}

static void bench_fair(void)
{
	static const unsigned int hogs[] = { 1, 2, 4 };
	const char *names[2] = { fair_label, "mutex" };
	u64 v[2][3][BENCH_MAX_REPS];
	static const char * const what[3] = { "median", "p90", "worst" };
	unsigned int pos[3], h, r, i, k, nr_impl = fair_peer ? 2 : 1;
	struct bench_fair *f;
	char param[16];

	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return;
	for (h = 0; h < ARRAY_SIZE(hogs); h++) {
		for (r = 0; r < reps; r++) {
			for (i = 0; i < nr_impl; i++) {
				f->stop = false;
				f->samples = 0;
				f->deadline = ktime_get_ns() +
					      (u64)fair_ms * NSEC_PER_MSEC;
				if (!bench_time(i ? bench_fair_mutex : bench_fair_gosync,
						f, hogs[h] + 1, 1) ||
				    !f->samples)
					goto out;
				sort(f->wait, f->samples, sizeof(u64),
				     bench_cmp_u64, NULL);
				pos[0] = f->samples / 2;
				pos[1] = f->samples * 9 / 10;
				pos[2] = f->samples - 1;
				for (k = 0; k < 3; k++)
					v[i][k][r] = f->wait[pos[k]];
			}
		}
		snprintf(param, sizeof(param), "hogs=%u", hogs[h]);
		for (i = 0; i < nr_impl; i++)
			for (k = 0; k < 3; k++)
				bench_print("fair", what[k], param, hogs[h] + 1,
					    names[i], v[i][k], reps, 1, "ns");
	}
out:
	kfree(f);
}

/*
 * WaitGroup, after Go's BenchmarkWaitGroup{Uncontended,AddDone,Wait}:
 * against a completion and against an atomic_t with wait_var_event().
 */
static void bench_wg_unc_gosync(struct bench_worker *w)
{
	struct bench_slot *s = bench_slot(w);
	unsigned long n = w->ops;

	while (n--) {
		gosync_wg_add(&s->wg, 1);
		gosync_wg_done(&s->wg);
		gosync_wg_wait(&s->wg);
	}
}

static void bench_wg_unc_completion(struct bench_worker *w)
{
	struct bench_slot *s = bench_slot(w);
	unsigned long n = w->ops;

	while (n--) {
		reinit_completion(&s->done);
		complete(&s->done);
		wait_for_completion(&s->done);
	}
}

static void bench_var_done(atomic_t *v)
{
	if (atomic_dec_and_test(v))
		wake_up_var(v);
}

static void bench_wg_unc_var(struct bench_worker *w)
{
	struct bench_slot *s = bench_slot(w);
	unsigned long n = w->ops;

	while (n--) {
		atomic_inc(&s->var);
		bench_var_done(&s->var);
		wait_var_event(&s->var, !atomic_read(&s->var));
	}
}

static void bench_wg_adddone_gosync(struct bench_worker *w)
{
	struct bench_slot *s = bench_slot(w);
	unsigned long n = w->ops;

	while (n--) {
		gosync_wg_add(&s->wg, 1);
		gosync_wg_done(&s->wg);
	}
}

static void bench_wg_adddone_var(struct bench_worker *w)
{
	struct bench_slot *s = bench_slot(w);
	unsigned long n = w->ops;

	while (n--) {
		atomic_inc(&s->var);
		bench_var_done(&s->var);
	}
}

static void bench_wg_wait_gosync(struct bench_worker *w)
{
	struct bench_slot *s = bench_slot(w);
	unsigned long n = w->ops;

	while (n--)
		gosync_wg_wait(&s->wg);
}

static void bench_wg_wait_completion(struct bench_worker *w)
{
	struct bench_slot *s = bench_slot(w);
	unsigned long n = w->ops;

	while (n--)
		wait_for_completion(&s->done);
}

static void bench_wg_wait_var(struct bench_worker *w)
{
	struct bench_slot *s = bench_slot(w);
	unsigned long n = w->ops;

	while (n--)
		wait_var_event(&s->var, !atomic_read(&s->var));
}

static void bench_wg(void)
{
	static const struct bench_impl unc[] = {
		{ "gosync_wg", bench_wg_unc_gosync },
		{ "completion", bench_wg_unc_completion },
		{ "wait_var_event", bench_wg_unc_var },
	};
	static const struct bench_impl adddone[] = {
		{ "gosync_wg", bench_wg_adddone_gosync },
		{ "wait_var_event", bench_wg_adddone_var },
	};
	static const struct bench_impl wait[] = {
		{ "gosync_wg", bench_wg_wait_gosync },
		{ "completion", bench_wg_wait_completion },
		{ "wait_var_event", bench_wg_wait_var },
	};
	unsigned int i, t;

	for (i = 0; i < ARRAY_SIZE(bench_thread_counts); i++) {
		t = bench_thread_counts[i];
		bench_shape("wg", "uncontended", "", unc, 3, NULL, t, 200000);
		bench_shape("wg", "add_done", "", adddone, 2, bench_slots, t,
			    200000);
		/* Waiting on a zero counter: complete_all() keeps it done. */
		complete_all(&bench_slots[0].done);
		bench_shape("wg", "wait", "", wait, 3, bench_slots, t, 200000);
	}
}

/* Once, after Go's BenchmarkOnce: the fast path after the first call. */
static DEFINE_GOSYNC_ONCE(bench_gosync_once);
static struct once bench_kernel_once;

static void bench_nothing(void *arg)
{
}

static int bench_kernel_nothing(struct once *once)
{
	return 0;
}

static void bench_once_gosync(struct bench_worker *w)
{
	unsigned long n = w->ops;

	while (n--)
		gosync_once_do(&bench_gosync_once, bench_nothing, NULL);
}

static void bench_once_call_once(struct bench_worker *w)
{
	unsigned long n = w->ops;

	while (n--)
		call_once(&bench_kernel_once, bench_kernel_nothing);
}

static void bench_once_do_once(struct bench_worker *w)
{
	unsigned long n = w->ops;

	while (n--)
		DO_ONCE(bench_nothing, NULL);
}

static void bench_once(void)
{
	static const struct bench_impl impl[] = {
		{ "gosync_once", bench_once_gosync },
		{ "call_once", bench_once_call_once },
		{ "DO_ONCE", bench_once_do_once },
	};
	unsigned int i;

	once_init(&bench_kernel_once);
	/* DO_ONCE() patches its branch out from a work item: let it run. */
	bench_time(bench_once_do_once, NULL, 1, 1);
	msleep(20);
	for (i = 0; i < ARRAY_SIZE(bench_thread_counts); i++)
		bench_shape("once", "done", "", impl, 3, NULL,
			    bench_thread_counts[i], 400000);
}

/* Seqlock, read and write sides, one shared lock. */
static DEFINE_GOSYNC_SEQLOCK(bench_gosync_seqlock);
static DEFINE_SEQLOCK(bench_kernel_seqlock);
static unsigned long bench_seq_data;

static void bench_seq_read_gosync(struct bench_worker *w)
{
	unsigned long n = w->ops, v = 0;
	unsigned int seq;

	while (n--) {
		do {
			seq = gosync_read_seqbegin(&bench_gosync_seqlock);
			v = READ_ONCE(bench_seq_data);
		} while (gosync_read_seqretry(&bench_gosync_seqlock, seq));
	}
	OPTIMIZER_HIDE_VAR(v);
}

static void bench_seq_read_kernel(struct bench_worker *w)
{
	unsigned long n = w->ops, v = 0;
	unsigned int seq;

	while (n--) {
		do {
			seq = read_seqbegin(&bench_kernel_seqlock);
			v = READ_ONCE(bench_seq_data);
		} while (read_seqretry(&bench_kernel_seqlock, seq));
	}
	OPTIMIZER_HIDE_VAR(v);
}

static void bench_seq_write_gosync(struct bench_worker *w)
{
	unsigned long n = w->ops;

	while (n--) {
		gosync_write_seqlock(&bench_gosync_seqlock);
		WRITE_ONCE(bench_seq_data, bench_seq_data + 1);
		gosync_write_sequnlock(&bench_gosync_seqlock);
	}
}

static void bench_seq_write_kernel(struct bench_worker *w)
{
	unsigned long n = w->ops;

	while (n--) {
		write_seqlock(&bench_kernel_seqlock);
		WRITE_ONCE(bench_seq_data, bench_seq_data + 1);
		write_sequnlock(&bench_kernel_seqlock);
	}
}

/* The kernel's writer with interrupts off, as gosync's writer runs. */
static void bench_seq_write_kernel_irq(struct bench_worker *w)
{
	unsigned long n = w->ops, flags;

	while (n--) {
		write_seqlock_irqsave(&bench_kernel_seqlock, flags);
		WRITE_ONCE(bench_seq_data, bench_seq_data + 1);
		write_sequnlock_irqrestore(&bench_kernel_seqlock, flags);
	}
}

/*
 * The kernel's own seqlock with sleeping writers, the peer of gosync's
 * writer (a mutex, then the count): seqcount_mutex_t, alone, and with
 * interrupts off around the count, which its hard-interrupt readers need
 * and gosync's writer always does.
 */
static DEFINE_MUTEX(bench_seqcount_mutex);
static seqcount_mutex_t bench_seqcount =
	SEQCNT_MUTEX_ZERO(bench_seqcount, &bench_seqcount_mutex);

static void bench_seq_write_seqcount_mutex(struct bench_worker *w)
{
	unsigned long n = w->ops;

	while (n--) {
		mutex_lock(&bench_seqcount_mutex);
		write_seqcount_begin(&bench_seqcount);
		WRITE_ONCE(bench_seq_data, bench_seq_data + 1);
		write_seqcount_end(&bench_seqcount);
		mutex_unlock(&bench_seqcount_mutex);
	}
}

static void bench_seq_write_seqcount_mutex_irq(struct bench_worker *w)
{
	unsigned long n = w->ops, flags;

	while (n--) {
		mutex_lock(&bench_seqcount_mutex);
		local_irq_save(flags);
		write_seqcount_begin(&bench_seqcount);
		WRITE_ONCE(bench_seq_data, bench_seq_data + 1);
		write_seqcount_end(&bench_seqcount);
		local_irq_restore(flags);
		mutex_unlock(&bench_seqcount_mutex);
	}
}

static void bench_seq(void)
{
	static const struct bench_impl read[] = {
		{ "gosync_seqlock", bench_seq_read_gosync },
		{ "seqlock_t", bench_seq_read_kernel },
	};
	static const struct bench_impl write[] = {
		{ "gosync_seqlock", bench_seq_write_gosync },
		{ "seqlock_t", bench_seq_write_kernel },
		{ "seqlock_t_irqsave", bench_seq_write_kernel_irq },
		{ "seqcount_mutex", bench_seq_write_seqcount_mutex },
		{ "seqcount_mutex_irqsave", bench_seq_write_seqcount_mutex_irq },
	};
	unsigned int i, t;

	for (i = 0; i < ARRAY_SIZE(bench_thread_counts); i++) {
		t = bench_thread_counts[i];
		bench_shape("seq", "read", "", read, 2, NULL, t, 400000);
		bench_shape("seq", "write", "", write, ARRAY_SIZE(write), NULL, t, 100000);
	}
}

/*
 * Map: gosync's hash-trie against an rhashtable (RCU lookups) and a hash
 * table of hlists behind striped spinlocks, all holding @size u64 keys
 * 0..size-1 (scrambled), each entry allocated on its own as gosync does.
 */
struct bench_rh_entry {
	struct rhash_head node;
	u64 key;
	void *value;
	struct rcu_head rcu;
};

static const struct rhashtable_params bench_rh_params = {
	.key_len = sizeof(u64),
	.key_offset = offsetof(struct bench_rh_entry, key),
	.head_offset = offsetof(struct bench_rh_entry, node),
};

#define BENCH_SH_LOCKS	1024

struct bench_sh_entry {
	struct hlist_node node;
	u64 key;
	void *value;
};

struct bench_sh {
	struct hlist_head *bucket;
	unsigned int shift;
	/* lock[b % BENCH_SH_LOCKS] guards bucket[b]. */
	spinlock_t lock[BENCH_SH_LOCKS];
};

struct bench_maps {
	struct gosync_map gosync;
	struct rhashtable rh;
	bool rh_ready;
	struct bench_sh sh;
	u64 size;
	/* Keys at and above @size are absent; insert shapes add from there. */
	u64 fresh_per_worker;
};

static u64 bench_key(u64 i)
{
	return i * 0x9e3779b97f4a7c15ULL;
}

static spinlock_t *bench_sh_lock(struct bench_sh *sh, u32 b)
{
	return &sh->lock[b % BENCH_SH_LOCKS];
}

static bool bench_sh_load(struct bench_sh *sh, u64 key, void **value)
{
	u32 b = hash_64(key, sh->shift);
	struct bench_sh_entry *e;
	bool found = false;

	spin_lock(bench_sh_lock(sh, b));
	hlist_for_each_entry(e, &sh->bucket[b], node) {
		if (e->key == key) {
			*value = e->value;
			found = true;
			break;
		}
	}
	spin_unlock(bench_sh_lock(sh, b));
	return found;
}

/* 1 loaded, 0 stored, -ENOMEM. */
static int bench_sh_load_or_store(struct bench_sh *sh, u64 key, void *value)
{
	u32 b = hash_64(key, sh->shift);
	struct bench_sh_entry *e, *n;
	void *old;

	/* Look first: a hit must not pay for an allocation. */
	if (bench_sh_load(sh, key, &old))
		return 1;
	n = kmalloc(sizeof(*n), GFP_KERNEL);
	if (!n)
		return -ENOMEM;
	spin_lock(bench_sh_lock(sh, b));
	hlist_for_each_entry(e, &sh->bucket[b], node) {
		if (e->key == key) {
			spin_unlock(bench_sh_lock(sh, b));
			kfree(n);
			return 1;
		}
	}
	n->key = key;
	n->value = value;
	hlist_add_head(&n->node, &sh->bucket[b]);
	spin_unlock(bench_sh_lock(sh, b));
	return 0;
}

static bool bench_sh_delete(struct bench_sh *sh, u64 key)
{
	u32 b = hash_64(key, sh->shift);
	struct bench_sh_entry *e;

	spin_lock(bench_sh_lock(sh, b));
	hlist_for_each_entry(e, &sh->bucket[b], node) {
		if (e->key == key) {
			hlist_del(&e->node);
			spin_unlock(bench_sh_lock(sh, b));
			kfree(e);
			return true;
		}
	}
	spin_unlock(bench_sh_lock(sh, b));
	return false;
}

static int bench_sh_init(struct bench_sh *sh, u64 size)
{
	unsigned int i;

	sh->shift = max(4, ilog2(roundup_pow_of_two(size)));
	sh->bucket = kvcalloc(1UL << sh->shift, sizeof(*sh->bucket), GFP_KERNEL);
	if (!sh->bucket)
		return -ENOMEM;
	for (i = 0; i < BENCH_SH_LOCKS; i++)
		spin_lock_init(&sh->lock[i]);
	return 0;
}

static void bench_sh_destroy(struct bench_sh *sh)
{
	struct bench_sh_entry *e;
	struct hlist_node *tmp;
	unsigned long b;

	for (b = 0; b < (1UL << sh->shift); b++) {
		hlist_for_each_entry_safe(e, tmp, &sh->bucket[b], node)
			kfree(e);
		cond_resched();
	}
	kvfree(sh->bucket);
}

/* 1 loaded, 0 stored, -errno. */
static int bench_rh_load_or_store(struct rhashtable *rh, u64 key, void *value)
{
	struct bench_rh_entry *e;
	int err;

	if (rhashtable_lookup_fast(rh, &key, bench_rh_params))
		return 1;
	e = kmalloc(sizeof(*e), GFP_KERNEL);
	if (!e)
		return -ENOMEM;
	e->key = key;
	e->value = value;
	/* -EBUSY: a resize is due first; the worker makes room. */
	do {
		err = rhashtable_lookup_insert_fast(rh, &e->node,
						    bench_rh_params);
		if (err == -EBUSY)
			cond_resched();
	} while (err == -EBUSY);
	if (err)
		kfree(e);
	return err == -EEXIST ? 1 : err;
}

static bool bench_rh_delete(struct rhashtable *rh, u64 key)
{
	struct bench_rh_entry *e;
	bool found = false;

	rcu_read_lock();
	e = rhashtable_lookup(rh, &key, bench_rh_params);
	if (e && !rhashtable_remove_fast(rh, &e->node, bench_rh_params)) {
		kfree_rcu(e, rcu);
		found = true;
	}
	rcu_read_unlock();
	return found;
}

static void bench_rh_free(void *ptr, void *arg)
{
	kfree(ptr);
}

/* Which key a map worker uses next: present, absent, or its own fresh one. */
enum bench_key_kind { BENCH_HIT, BENCH_MISS, BENCH_FRESH };

static u64 bench_map_key(struct bench_worker *w, struct bench_maps *m,
			 int kind, unsigned long n)
{
	switch (kind) {
	case BENCH_HIT:
		return bench_key(bench_rand(w) % m->size);
	case BENCH_MISS:
		return bench_key(m->size + m->fresh_per_worker * BENCH_MAX_THREADS +
				 bench_rand(w) % m->size);
	default:
		return bench_key(m->size + m->fresh_per_worker * w->index + n);
	}
}

enum bench_map_op { BENCH_LOAD, BENCH_LOAD_OR_STORE, BENCH_DELETE };

static __always_inline void bench_map_loop(struct bench_worker *w, int impl,
					   int op, int kind)
{
	struct bench_maps *m = w->run->ctx;
	unsigned long n;
	void *value;
	u64 key;
	int ret = 0;

	for (n = 0; n < w->ops; n++) {
		key = bench_map_key(w, m, kind, n);
		if (op == BENCH_LOAD && impl == 0)
			ret += gosync_map_load(&m->gosync, &key, sizeof(key), &value);
		else if (op == BENCH_LOAD && impl == 1)
			ret += !!rhashtable_lookup_fast(&m->rh, &key, bench_rh_params);
		else if (op == BENCH_LOAD)
			ret += bench_sh_load(&m->sh, key, &value);
		else if (op == BENCH_LOAD_OR_STORE && impl == 0)
			ret += gosync_map_load_or_store(&m->gosync, &key, sizeof(key),
							w, &value);
		else if (op == BENCH_LOAD_OR_STORE && impl == 1)
			ret += bench_rh_load_or_store(&m->rh, key, w);
		else if (op == BENCH_LOAD_OR_STORE)
			ret += bench_sh_load_or_store(&m->sh, key, w);
		else if (impl == 0)
			ret += gosync_map_delete(&m->gosync, &key, sizeof(key));
		else if (impl == 1)
			ret += bench_rh_delete(&m->rh, key);
		else
			ret += bench_sh_delete(&m->sh, key);
	}
	OPTIMIZER_HIDE_VAR(ret);
}

#define BENCH_MAP_FNS(op, kind, suffix)					\
enum {									\
	bench_map_op_##suffix = (op),					\
	bench_map_kind_##suffix = (kind),				\
};									\
static void bench_map_gosync_##suffix(struct bench_worker *w)		\
{									\
	bench_map_loop(w, 0, bench_map_op_##suffix, bench_map_kind_##suffix); \
}									\
static void bench_map_rh_##suffix(struct bench_worker *w)		\
{									\
	bench_map_loop(w, 1, bench_map_op_##suffix, bench_map_kind_##suffix); \
}									\
static void bench_map_sh_##suffix(struct bench_worker *w)		\
{									\
	bench_map_loop(w, 2, bench_map_op_##suffix, bench_map_kind_##suffix); \
}									\
static const struct bench_impl bench_map_##suffix[] = {			\
	{ "gosync_map", bench_map_gosync_##suffix },			\
	{ "rhashtable", bench_map_rh_##suffix },			\
	{ "spinlock_hash", bench_map_sh_##suffix },			\
}

BENCH_MAP_FNS(BENCH_LOAD, BENCH_HIT, load_hit);
BENCH_MAP_FNS(BENCH_LOAD, BENCH_MISS, load_miss);
BENCH_MAP_FNS(BENCH_LOAD_OR_STORE, BENCH_HIT, los_hit);
BENCH_MAP_FNS(BENCH_LOAD_OR_STORE, BENCH_FRESH, insert);
BENCH_MAP_FNS(BENCH_DELETE, BENCH_FRESH, delete);

/* Range: one walk over every entry, ns per entry. */
static bool bench_gosync_visit(const void *key, size_t len, void *value,
			       void *arg)
{
	(*(unsigned long *)arg)++;
	return true;
}

static void bench_map_gosync_range(struct bench_worker *w)
{
	struct bench_maps *m = w->run->ctx;
	unsigned long seen = 0;

	gosync_map_range(&m->gosync, bench_gosync_visit, &seen);
	OPTIMIZER_HIDE_VAR(seen);
}

static void bench_map_rh_range(struct bench_worker *w)
{
	struct bench_maps *m = w->run->ctx;
	struct rhashtable_iter iter;
	unsigned long seen = 0;
	void *e;

	rhashtable_walk_enter(&m->rh, &iter);
	rhashtable_walk_start(&iter);
	while ((e = rhashtable_walk_next(&iter))) {
		if (!IS_ERR(e))
			seen++;
	}
	rhashtable_walk_stop(&iter);
	rhashtable_walk_exit(&iter);
	OPTIMIZER_HIDE_VAR(seen);
}

static void bench_map_sh_range(struct bench_worker *w)
{
	struct bench_maps *m = w->run->ctx;
	struct bench_sh_entry *e;
	unsigned long b, seen = 0;

	for (b = 0; b < (1UL << m->sh.shift); b++) {
		spin_lock(bench_sh_lock(&m->sh, b));
		hlist_for_each_entry(e, &m->sh.bucket[b], node)
			seen++;
		spin_unlock(bench_sh_lock(&m->sh, b));
	}
	OPTIMIZER_HIDE_VAR(seen);
}

static const struct bench_impl bench_map_range[] = {
	{ "gosync_map", bench_map_gosync_range },
	{ "rhashtable", bench_map_rh_range },
	{ "spinlock_hash", bench_map_sh_range },
};

/*
 * Insert-heavy load-or-store, then delete: each round of an implementation
 * adds fresh keys and removes them again, so the maps are back at their
 * size for the next one.
 */
static void bench_map_insert_delete(struct bench_maps *m, const char *param,
				    unsigned int threads, unsigned long base)
{
	u64 v[BENCH_MAX_IMPL][BENCH_MAX_REPS], dv[BENCH_MAX_IMPL][BENCH_MAX_REPS];
	unsigned long ops = bench_ops(base, threads);

	/* Fresh keys are numbered per worker: at most fresh_per_worker each. */
	if (!bench_rounds(bench_map_insert, bench_map_delete, 3, m, threads,
			  &ops, m->fresh_per_worker, v, dv)) {
		pr_err("map/insert: could not run\n");
		return;
	}
	bench_report("map", "load_or_store_insert", param, bench_map_insert, 3,
		     threads, v, ops * threads);
	bench_report("map", "delete", param, bench_map_delete, 3, threads, dv,
		     ops * threads);
}

/* Range: one walk over every entry, reported per entry. */
static void bench_map_range_all(struct bench_maps *m, const char *param)
{
	u64 v[BENCH_MAX_IMPL][BENCH_MAX_REPS];
	unsigned long walks = 1;

	if (bench_rounds(bench_map_range, NULL, 3, m, 1, &walks, 0, v, NULL))
		bench_report("map", "range", param, bench_map_range, 3, 1, v,
			     m->size);
}

/*
 * Bytes of memory in use, slab and vmalloc alike, as the page allocator
 * sees it.  Objects freed earlier by call_rcu() or kfree_rcu() (the
 * deletes of a smaller size, by every implementation) are freed first:
 * kfree_rcu() batches outlive rcu_barrier(), and freed during the next
 * fill they would be taken off that map's figure.
 */
static long bench_used_bytes(void)
{
	rcu_barrier();
	kvfree_rcu_barrier();
	return -(long)global_zone_page_state(NR_FREE_PAGES) * PAGE_SIZE;
}

/* Populate each map in turn, measuring what it took from the page allocator. */
/*
 * Set up and populate each map in turn, measuring what it took from the
 * page allocator, bucket tables included (the peers' are sized up front).
 */
static int bench_map_fill(struct bench_maps *m, char *param)
{
	struct rhashtable_params params = bench_rh_params;
	static const char * const names[] = {
		"gosync_map", "rhashtable", "spinlock_hash"
	};
	long before, bytes;
	unsigned int impl;
	void *value;
	u64 i, key;
	int err = 0;

	params.nelem_hint = m->size;
	for (impl = 0; impl < 3 && !err; impl++) {
		before = bench_used_bytes();
		if (impl == 1) {
			err = rhashtable_init(&m->rh, &params);
			m->rh_ready = !err;
		} else if (impl == 2) {
			err = bench_sh_init(&m->sh, m->size);
		}
		for (i = 0; i < m->size && !err; i++) {
			key = bench_key(i);
			if (impl == 0)
				err = gosync_map_load_or_store(&m->gosync, &key,
							       sizeof(key), m,
							       &value);
			else if (impl == 1)
				err = bench_rh_load_or_store(&m->rh, key, m);
			else
				err = bench_sh_load_or_store(&m->sh, key, m);
			if (!(i & 1023))
				cond_resched();
		}
		bytes = bench_used_bytes() - before;
		pr_info("csv,map,bytes_per_entry,%s,1,%s,%ld,%ld,%ld,B/entry\n",
			param, names[impl], bytes / (long)m->size,
			bytes / (long)m->size, bytes / (long)m->size);
	}
	return err < 0 ? err : 0;
}

static void bench_map_size(u64 size)
{
	unsigned long base = 20000;
	struct bench_maps *m;
	unsigned int i, t;
	char param[24];

	m = kvzalloc(sizeof(*m), GFP_KERNEL);
	if (!m)
		return;
	m->size = size;
	m->fresh_per_worker = 10 * base;
	snprintf(param, sizeof(param), "size=%llu", size);
	if (bench_map_fill(m, param)) {
		pr_err("map size %llu: out of memory\n", size);
		goto out;
	}
	for (i = 0; i < ARRAY_SIZE(bench_thread_counts); i++) {
		t = bench_thread_counts[i];
		bench_shape("map", "load_hit", param, bench_map_load_hit, 3, m,
			    t, base);
		bench_shape("map", "load_miss", param, bench_map_load_miss, 3, m,
			    t, base);
		bench_shape("map", "load_or_store_hit", param,
			    bench_map_los_hit, 3, m, t, base);
	}
	for (i = 0; i < ARRAY_SIZE(bench_thread_counts); i++)
		bench_map_insert_delete(m, param, bench_thread_counts[i], base);
	bench_map_range_all(m, param);
out:
	if (m->sh.bucket)
		bench_sh_destroy(&m->sh);
	if (m->rh_ready)
		rhashtable_free_and_destroy(&m->rh, bench_rh_free, NULL);
	gosync_map_destroy(&m->gosync);
	kvfree(m);
}

/* Is @name in the comma-separated list @list? */
static bool bench_listed(const char *list, const char *name)
{
	size_t len = strlen(name);
	const char *p = list;

	while ((p = strstr(p, name))) {
		if ((p == list || p[-1] == ',') && (!p[len] || p[len] == ','))
			return true;
		p += len;
	}
	return false;
}

static void bench_maps(void)
{
	char *copy, *cursor, *word;
	u64 size;

	copy = kstrdup(map_sizes, GFP_KERNEL);
	if (!copy)
		return;
	cursor = copy;
	while ((word = strsep(&cursor, ","))) {
		if (kstrtoull(word, 0, &size) || !size || size > (1ULL << 24))
			pr_err("bad map size '%s'\n", word);
		else
			bench_map_size(size);
	}
	kfree(copy);
}

static int __init gosync_bench_init(void)
{
	unsigned int i;

	reps = clamp(reps, 1U, (unsigned int)BENCH_MAX_REPS);
	round_ms = max(round_ms, 1U);
	bench_run = kzalloc(sizeof(*bench_run), GFP_KERNEL);
	if (!bench_run)
		return -ENOMEM;
	for (i = 0; i < BENCH_MAX_THREADS; i++) {
		gosync_mutex_init(&bench_slots[i].gm);
		mutex_init(&bench_slots[i].km);
		spin_lock_init(&bench_slots[i].sl);
		gosync_wg_init(&bench_slots[i].wg);
		init_completion(&bench_slots[i].done);
	}
	pr_info("start cpus=%u reps=%u round_ms=%u groups=%s\n",
		num_online_cpus(), reps, round_ms, groups);
	if (bench_listed(groups, "mutex"))
		bench_mutex();
	if (bench_listed(groups, "fair"))
		bench_fair();
	if (bench_listed(groups, "wg"))
		bench_wg();
	if (bench_listed(groups, "once"))
		bench_once();
	if (bench_listed(groups, "seq"))
		bench_seq();
	if (bench_listed(groups, "map"))
		bench_maps();
	pr_info("end\n");
	kfree(bench_run);
	return 0;
}

static void __exit gosync_bench_exit(void)
{
}

module_init(gosync_bench_init);
module_exit(gosync_bench_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("gosync against the kernel's own primitives, interleaved, as CSV");
