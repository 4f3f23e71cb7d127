/* Fuzz the provisioning attribute templates (src/prov/prov_entry.c): any
 * template either expands, is left out or is refused; never a crash or a
 * write past the buffer. */
#include <stdint.h>
#include <string.h>

#include "prov.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char tmpl[1024];
    if (size >= sizeof tmpl)
        size = sizeof tmpl - 1;
    memcpy(tmpl, data, size);
    tmpl[size] = '\0';
    svc_prov_subject x;
    memset(&x, 0, sizeof x);
    x.exists = x.has_account = true;
    strcpy(x.p.given_names, "Aino Maria");
    strcpy(x.p.family_name, "Virtanen");
    strcpy(x.acct.username, "aino.virtanen");
    char out[64];
    bool bad;
    (void)prov_expand(tmpl, &x, 1, out, sizeof out, &bad);
    return 0;
}
