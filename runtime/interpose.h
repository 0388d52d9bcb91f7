/* interpose.h - whether this executable defines libc's functions itself
 * (malloc and its relatives in nativeheap.c, pthread_create in ownthread.c),
 * as a release build does, or leaves them to a sanitizer's runtime. */
#ifndef OMNI_INTERPOSE_H
#define OMNI_INTERPOSE_H

/* 1 in a sanitizer's build, whose runtime owns malloc and intercepts
 * pthread_create: the executable then defines neither. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define OMNI_SANITIZER_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define OMNI_SANITIZER_BUILD 1
#endif
#endif
#ifndef OMNI_SANITIZER_BUILD
#define OMNI_SANITIZER_BUILD 0
#endif

#endif
