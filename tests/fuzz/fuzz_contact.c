/* Fuzz e-mail and phone normalisation: accepted values are canonical
 * (normalising again changes nothing) and of the promised shape. */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "contact.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char s[FUZZ_MAX + 1];
    if (size > FUZZ_MAX)
        size = FUZZ_MAX;
    memcpy(s, data, size);
    s[size] = '\0';

    char mail[EMAIL_BUFSZ];
    tn_err e;
    tn_code rc = email_normalize(s, mail, "email", &e);
    assert(rc == TN_OK || rc == TN_EINVAL);
    if (rc == TN_OK) {
        size_t n = strlen(mail);
        assert(n == strlen(s) && n <= 254);
        assert(strchr(mail, '@') && strchr(mail, '@') == strrchr(mail, '@'));
        for (size_t i = 0; i < n; i++)
            assert(!(mail[i] >= 'A' && mail[i] <= 'Z') && (unsigned char)mail[i] > ' ' &&
                   (unsigned char)mail[i] < 0x7f);
        char again[EMAIL_BUFSZ];
        assert(email_normalize(mail, again, "email", NULL) == TN_OK);
        assert(strcmp(again, mail) == 0);
    } else {
        assert(strcmp(e.field, "email") == 0);
    }

    char phone[PHONE_BUFSZ];
    rc = phone_normalize(s, phone, "phone", &e);
    assert(rc == TN_OK || rc == TN_EINVAL);
    if (rc == TN_OK) {
        size_t n = strlen(phone);
        assert(phone[0] == '+' && n >= 8 && n <= 16);
        assert(phone[1] != '0');
        for (size_t i = 1; i < n; i++)
            assert(phone[i] >= '0' && phone[i] <= '9');
        if (strncmp(phone, "+358", 4) == 0)
            assert(phone[4] != '0' && n - 4 >= 7 && n - 4 <= 12);
        char again[PHONE_BUFSZ];
        assert(phone_normalize(phone, again, "phone", NULL) == TN_OK);
        assert(strcmp(again, phone) == 0);
    } else {
        assert(strcmp(e.field, "phone") == 0);
    }
    return 0;
}
