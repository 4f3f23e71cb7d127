#include "hetu.h"

#include <string.h>

#define HETU_FIELD "national_id"

static const char hetu_check_chars[] = "0123456789ABCDEFHJKLMNPRSTUVWXY";

static char hetu_upper(char c)
{
    return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
}

/* The century a sign stands for, or -1. Signs Y X W V U and B C D E F were
 * added in 2023 for the growing number of temporary and foreign-born IDs;
 * they are as valid as the classic '-' and 'A'. */
static int hetu_century(char sign)
{
    switch (sign) {
    case '+':
        return 1800;
    case '-': case 'Y': case 'X': case 'W': case 'V': case 'U':
        return 1900;
    case 'A': case 'B': case 'C': case 'D': case 'E': case 'F':
        return 2000;
    default:
        return -1;
    }
}

static bool hetu_digits(const char *s, size_t n, int *value)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *value = v;
    return true;
}

tn_code hetu_parse(const char *s, char canon[HETU_BUFSZ], hetu_info *info, tn_err *e)
{
    /* Every message below is fixed text: the value is personal data and
     * must not reach logs or API responses through an error. */
    if (!s || !*s)
        return tn_err_set(e, TN_EINVAL, HETU_FIELD, "is required");
    if (strnlen(s, HETU_LEN + 1) != HETU_LEN)
        return tn_err_set(e, TN_EINVAL, HETU_FIELD, "must be 11 characters");

    char c[HETU_BUFSZ];
    for (size_t i = 0; i < HETU_LEN; i++)
        c[i] = hetu_upper(s[i]);
    c[HETU_LEN] = '\0';

    int dd, mm, yy, ind;
    if (!hetu_digits(c, 2, &dd) || !hetu_digits(c + 2, 2, &mm) || !hetu_digits(c + 4, 2, &yy))
        return tn_err_set(e, TN_EINVAL, HETU_FIELD, "birth date must be six digits (DDMMYY)");
    int century = hetu_century(c[6]);
    if (century < 0)
        return tn_err_set(e, TN_EINVAL, HETU_FIELD, "unknown century sign");
    if (!hetu_digits(c + 7, 3, &ind))
        return tn_err_set(e, TN_EINVAL, HETU_FIELD, "individual number must be three digits");
    int year = century + yy;
    if (!date_valid_ymd(year, mm, dd))
        return tn_err_set(e, TN_EINVAL, HETU_FIELD, "birth date does not exist");
    if (ind < 2)
        return tn_err_set(e, TN_EINVAL, HETU_FIELD,
                          "individual number 000 or 001 is never issued");

    long number = ((long)dd * 10000 + (long)mm * 100 + yy) * 1000 + ind;
    if (c[10] != hetu_check_chars[number % 31])
        return tn_err_set(e, TN_EINVAL, HETU_FIELD, "check character does not match");

    if (canon)
        memcpy(canon, c, HETU_BUFSZ);
    if (info) {
        info->birth_date = date_from_ymd(year, mm, dd);
        info->individual = ind;
        info->temporary = ind >= 900;
        info->female = ind % 2 == 0;
    }
    return TN_OK;
}

bool hetu_valid(const char *s)
{
    return hetu_parse(s, NULL, NULL, NULL) == TN_OK;
}
