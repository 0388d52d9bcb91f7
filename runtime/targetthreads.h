/* targetthreads.h - the target's threads, counted so that the process ends
 * when the last of them does, as it would under python3. glibc ends a
 * process (exit(0)) when its last thread ends; omnipython's own threads (the
 * monitor's) would keep a process alive whose threads are all gone: a child
 * forked from a thread that then returns, a main thread that called
 * pthread_exit. Here the last of the target's threads to end calls exit(0)
 * itself, which writes the session. Nothing is counted before the run
 * starts (--mode off counts nothing). */
#ifndef OMNI_TARGETTHREADS_H
#define OMNI_TARGETTHREADS_H

/* On the main thread as the run starts: counts it, and from now on the
 * threads the target makes. */
void omni_target_threads_start(void);
/* Counts the calling thread as the target's unless it is already: the frame
 * hook's first sight of a thread, for builds whose pthread_create is not the
 * executable's (a sanitizer's). */
void omni_target_thread_note(void);
/* The executable's pthread_create, for a thread of the target's: counts the
 * thread about to be made (so that the count cannot reach 0 between its
 * creation and its start) and returns 1, or 0 before the run starts. */
int omni_target_thread_creating(void);
/* The creation counted by omni_target_thread_creating failed. */
void omni_target_thread_failed(void);
/* First thing in a thread omni_target_thread_creating counted. */
void omni_target_thread_started(void);
/* In a forked child: only the thread that forked survived. */
void omni_target_threads_after_fork(void);

#endif
