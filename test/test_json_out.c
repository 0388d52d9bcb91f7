/* test_json_out.c - the JSON writer: commas, nesting, escaping, non-finite numbers. */
#include "patterns/report/json_out.h"
#include "test/unit.h"

#include <math.h>
#include <stdlib.h>

int main(void) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    omni_json_t j;
    omni_json_init(&j, f);
    omni_json_begin_object(&j);
    omni_json_key(&j, "a");
    omni_json_int(&j, -3);
    omni_json_key(&j, "b\"q");
    omni_json_begin_array(&j);
    omni_json_str(&j, "x\n\x01y\\");
    omni_json_num(&j, NAN);
    omni_json_num(&j, 0.5);
    omni_json_begin_object(&j);
    omni_json_end_object(&j);
    omni_json_null(&j);
    omni_json_bool(&j, 1);
    omni_json_str(&j, NULL);
    omni_json_end_array(&j);
    omni_json_key(&j, "c");
    omni_json_uint(&j, 18446744073709551615ull);
    omni_json_end_object(&j);
    fclose(f);
    CHECK_STR(buf, "{\"a\":-3,\"b\\\"q\":[\"x\\n\\u0001y\\\\\",null,0.5,{},null,true,null],"
                   "\"c\":18446744073709551615}");
    free(buf);
    UNIT_DONE();
}
