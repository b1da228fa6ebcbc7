// SPDX-License-Identifier: GPL-2.0
/*
 * gosync_kunit: the KUnit suites of gosync, one *_test.c per primitive,
 * and the kthread helper they share.
 */

#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/sched/task.h>
#include <linux/slab.h>

#include "gosync_test.h"

struct gosync_test_thread {
	int (*fn)(void *data, unsigned int index);
	void *data;
	unsigned int index;
	int result;
	struct completion done;
};

static int gosync_test_thread_main(void *arg)
{
	struct gosync_test_thread *thread = arg;

	if (thread->fn)
		thread->result = thread->fn(thread->data, thread->index);
	/* Leaves no module code to run after the waiter is released. */
	kthread_complete_and_exit(&thread->done, 0);
}

int gosync_test_run_threads(struct kunit *test, unsigned int nr,
			    int (*fn)(void *data, unsigned int index),
			    void *data,
			    void (*on_start)(struct task_struct **tasks,
					     unsigned int nr, void *data))
{
	struct gosync_test_thread *threads;
	struct task_struct **tasks;
	unsigned int i, failed = 0;
	/* Start on the next CPU: the first thread should not share ours. */
	int cpu = raw_smp_processor_id();

	threads = kunit_kcalloc(test, nr, sizeof(*threads), GFP_KERNEL);
	tasks = kunit_kcalloc(test, nr, sizeof(*tasks), GFP_KERNEL);
	if (!threads || !tasks)
		return -ENOMEM;

	for (i = 0; i < nr; i++) {
		threads[i].fn = fn;
		threads[i].data = data;
		threads[i].index = i;
		init_completion(&threads[i].done);
		cpu = cpumask_next(cpu, cpu_online_mask);
		if (cpu >= nr_cpu_ids)
			cpu = cpumask_first(cpu_online_mask);
		tasks[i] = kthread_create(gosync_test_thread_main, &threads[i],
					  "gosync-test/%u", i);
		if (IS_ERR(tasks[i])) {
			int err = PTR_ERR(tasks[i]);

			/* Threads already made have not started: run them empty. */
			while (i--) {
				threads[i].fn = NULL;
				wake_up_process(tasks[i]);
				put_task_struct(tasks[i]);
			}
			return err;
		}
		kthread_bind(tasks[i], cpu);
		/* on_start may signal a thread that already exited. */
		get_task_struct(tasks[i]);
	}
	for (i = 0; i < nr; i++)
		wake_up_process(tasks[i]);
	if (on_start)
		on_start(tasks, nr, data);
	for (i = 0; i < nr; i++) {
		wait_for_completion(&threads[i].done);
		put_task_struct(tasks[i]);
		if (threads[i].result)
			failed++;
	}
	return failed;
}

MODULE_IMPORT_NS(GOSYNC_TESTING);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit suites of gosync");
