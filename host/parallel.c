/* The threaded loop of host/parallel.h. No state outside the call's own
 * job structure. */
#include "host/parallel.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

typedef struct job {
    siam_parallel_fn fn;
    void *ctx;
    int count;
    atomic_int next;
    atomic_int first_bad; /* lowest failing index, count when none */
    pthread_mutex_t lock;
    siam_error err;       /* message of first_bad, under lock */
} job;

static void *worker(void *arg)
{
    job *j = arg;
    siam_error e;
    for (;;) {
        int i = atomic_fetch_add(&j->next, 1);
        /* Items past a known failure are not needed: stop early. */
        if (i >= j->count || i > atomic_load(&j->first_bad))
            break;
        if (j->fn(j->ctx, i, &e) < 0) {
            pthread_mutex_lock(&j->lock);
            if (i < atomic_load(&j->first_bad)) {
                atomic_store(&j->first_bad, i);
                j->err = e;
            }
            pthread_mutex_unlock(&j->lock);
        }
    }
    return NULL;
}

int siam_parallel_for(int count, int threads, siam_parallel_fn fn, void *ctx, siam_error *err)
{
    if (count <= 0)
        return 0;
    if (threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (int)n : 1;
    }
    if (threads > count)
        threads = count;
    if (threads > 64)
        threads = 64;
    job j = { .fn = fn, .ctx = ctx, .count = count };
    atomic_init(&j.next, 0);
    atomic_init(&j.first_bad, count);
    pthread_mutex_init(&j.lock, NULL);
    pthread_t tid[64];
    int started = 0;
    for (int t = 1; t < threads; t++) {
        if (pthread_create(&tid[started], NULL, worker, &j) != 0)
            break; /* fewer threads is slower, not wrong */
        started++;
    }
    worker(&j);
    for (int t = 0; t < started; t++)
        pthread_join(tid[t], NULL);
    pthread_mutex_destroy(&j.lock);
    if (atomic_load(&j.first_bad) < count) {
        if (err)
            *err = j.err;
        return -1;
    }
    return 0;
}
