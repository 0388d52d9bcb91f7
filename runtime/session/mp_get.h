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

#endif
