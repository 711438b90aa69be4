/* demo.c — the program `make demo` runs under memscope. It shows what a report contains:
 * named variables (MS_TRACK) with their lifecycles, a reference-counted object (MS_REF_*),
 * subsystem tags, a multi-threaded workload with frees on other threads, temporary
 * allocations, a realloc growth chain, and two genuine leaks in known functions
 * (leak_config_strings, leak_cache_entries) for the leak views to find.
 */
#include <memscope.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct session {
  long refs;
  char user[32];
  double *scores;
} session_t;

static session_t *session_new(const char *user) {
  session_t *s = calloc(1, sizeof *s);
  snprintf(s->user, sizeof s->user, "%s", user);
  s->scores = malloc(64 * sizeof(double));
  s->refs = 1;
  MS_REF(s, s->refs);
  return s;
}
static void session_retain(session_t *s) { s->refs++; MS_REF_RETAIN(s); }
static void session_release(session_t *s) {
  s->refs--;
  MS_REF_RELEASE(s);
  if (s->refs == 0) {
    free(s->scores);
    free(s);
  }
}

/* Leak 1: strings duplicated and never freed. */
__attribute__((noinline)) static void leak_config_strings(void) {
  for (int i = 0; i < 50; i++) {
    char key[32];
    snprintf(key, sizeof key, "config.key.%d", i);
    char *copy = strdup(key);
    if (!copy) abort();
  }
}

/* Leak 2: cache entries whose owner forgets them. */
__attribute__((noinline)) static void leak_cache_entries(void) {
  for (int i = 0; i < 20; i++) {
    void *entry = malloc(4096);
    memset(entry, i, 4096);
  }
}

/* A growth chain: one buffer realloc'd as it fills. */
__attribute__((noinline)) static size_t build_log(void) {
  size_t cap = 16, len = 0;
  char *logbuf = malloc(cap);
  MS_TRACK_AS(logbuf, "char *");
  for (int i = 0; i < 2000; i++) {
    if (len + 32 > cap) {
      cap *= 2;
      logbuf = realloc(logbuf, cap);
    }
    len += (size_t)snprintf(logbuf + len, cap - len, "event %d;", i);
  }
  size_t n = strlen(logbuf);
  free(logbuf);
  return n;
}

/* Temporary allocations: freed right after use. */
__attribute__((noinline)) static unsigned checksum_temporaries(int rounds) {
  unsigned sum = 0;
  for (int i = 0; i < rounds; i++) {
    unsigned char *tmp = malloc(256);
    memset(tmp, i & 0xff, 256);
    sum += tmp[i % 256];
    free(tmp);
  }
  return sum;
}

/* Producer/consumer: blocks allocated in one thread, freed in another. */
#define QUEUE 256
static void *queue[QUEUE];
static int q_head, q_tail, q_done;
static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_cond = PTHREAD_COND_INITIALIZER;

static void *producer(void *arg) {
  (void)arg;
  MS_TAG_PUSH("producer");
  for (int i = 0; i < 20000; i++) {
    size_t n = 64 + (size_t)(i % 7) * 100;
    char *msg = malloc(n);
    memset(msg, 'x', n);
    pthread_mutex_lock(&q_lock);
    while ((q_head + 1) % QUEUE == q_tail) pthread_cond_wait(&q_cond, &q_lock);
    queue[q_head] = msg;
    q_head = (q_head + 1) % QUEUE;
    pthread_cond_broadcast(&q_cond);
    pthread_mutex_unlock(&q_lock);
  }
  pthread_mutex_lock(&q_lock);
  q_done = 1;
  pthread_cond_broadcast(&q_cond);
  pthread_mutex_unlock(&q_lock);
  MS_TAG_POP();
  return NULL;
}

static void *consumer(void *arg) {
  long *consumed = arg;
  for (;;) {
    pthread_mutex_lock(&q_lock);
    while (q_head == q_tail && !q_done) pthread_cond_wait(&q_cond, &q_lock);
    if (q_head == q_tail && q_done) {
      pthread_mutex_unlock(&q_lock);
      return NULL;
    }
    void *msg = queue[q_tail];
    q_tail = (q_tail + 1) % QUEUE;
    pthread_cond_broadcast(&q_cond);
    pthread_mutex_unlock(&q_lock);
    free(msg);
    ++*consumed;
  }
}

int main(void) {
  /* named variables */
  int *histogram = calloc(1024, sizeof(int));
  MS_TRACK(histogram);
  double *matrix = malloc(256 * 256 * sizeof(double));
  MS_TRACK(matrix);
  for (int i = 0; i < 256 * 256; i++) matrix[i] = i * 0.5;

  /* a reference-counted object shared by two owners */
  session_t *alice = session_new("alice");
  MS_TRACK_AS(alice, "session_t *");
  session_retain(alice);
  session_release(alice);

  MS_TAG_PUSH("parser");
  leak_config_strings();
  MS_TAG_POP();
  leak_cache_entries();
  size_t loglen = build_log();
  unsigned sum = checksum_temporaries(5000);

  long consumed = 0;
  pthread_t p, c;
  pthread_create(&p, NULL, producer, NULL);
  pthread_create(&c, NULL, consumer, &consumed);
  pthread_join(p, NULL);
  pthread_join(c, NULL);

  for (int i = 0; i < 1024; i++) histogram[(int)matrix[i * 7 % 65536] % 1024]++;
  free(matrix);
  session_release(alice);
  free(histogram);

  printf("demo: log %zu bytes, checksum %u, %ld messages passed between threads\n", loglen, sum,
         consumed);
  return 0;
}
