/* Fuzz the configuration parser: any input either loads or yields an
 * error with a message; never a crash. */
#include <stdint.h>
#include <string.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char text[8192];
    if (size >= sizeof text)
        size = sizeof text - 1;
    memcpy(text, data, size);
    text[size] = '\0';
    conf c;
    conf_defaults(&c);
    tn_err e;
    tn_err_clear(&e);
    if (conf_load_string(&c, text, "fuzz", &e) == TN_OK)
        (void)conf_finish(&c, &e);
    else if (e.msg[0] == '\0')
        __builtin_trap(); /* an error without a message is a bug */
    return 0;
}
