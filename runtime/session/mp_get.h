/* mp_get.h - typed, checked access to unpacked msgpack values, for everything
 * that reads session records (a damaged value reads as absent). */
#ifndef OMNI_MP_GET_H
#define OMNI_MP_GET_H

#include <msgpack.h>
#include <stddef.h>

/* The value under a string key of a map, or NULL (also when m is no map). */
const msgpack_object *omni_mp_get(const msgpack_object *m, const char *key);
/* Whether o is the string s. */
int omni_mp_is_str(const msgpack_object *o, const char *s);
/* A number of any msgpack numeric type as a double. Returns 0, or -1 if o is
 * no number (*v is then left alone). */
int omni_mp_num(const msgpack_object *o, double *v);
/* Copies a string value into buf (cut to cap-1 bytes); "" if o is no string.
 * Returns buf. */
const char *omni_mp_str(const msgpack_object *o, char *buf, size_t cap);

/* Where the msgpack object at p[off..len) ends, without unpacking it:
 * msgpack-c allocates room for a container as soon as it reads its claimed
 * size, so damaged bytes could ask for gigabytes; every element takes at
 * least one byte, so no claim may exceed the bytes left. Returns 0 with
 * *end after the object, 1 when the data ends inside it (or claims more
 * than is left), -1 when it cannot be msgpack. */
int omni_mp_scan(const unsigned char *p, size_t len, size_t off, size_t *end);

#endif
