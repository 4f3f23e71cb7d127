#include "date.h"

#include <string.h>

/* Years a tn_date may be built from. Wider than the parser's 1800..2999 so
 * that arithmetic helpers work on any plausible value, yet narrow enough
 * that no intermediate result can overflow. */
#define DATE_YEAR_MIN 0
#define DATE_YEAR_MAX 9999

#define PARSE_YEAR_MIN 1800
#define PARSE_YEAR_MAX 2999

bool date_is_leap(int year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int date_days_in_month(int year, int month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month < 1 || month > 12)
        return 0;
    if (month == 2 && date_is_leap(year))
        return 29;
    return days[month - 1];
}

bool date_valid_ymd(int year, int month, int day)
{
    if (year < DATE_YEAR_MIN || year > DATE_YEAR_MAX)
        return false;
    return day >= 1 && day <= date_days_in_month(year, month);
}

/* Days from civil: shift the year to start on 1 March so that the leap day
 * is the last day of the shifted year, then count whole 400-year eras
 * (146097 days each) plus the day of the era. */
tn_date date_from_ymd(int year, int month, int day)
{
    int64_t y = (int64_t)year - (month <= 2);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;                                   /* 0..399 */
    int64_t mp = (month + 9) % 12;                                 /* March = 0 */
    int64_t doy = (153 * mp + 2) / 5 + day - 1;                    /* 0..365 */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* 0..146096 */
    return (tn_date)(era * 146097 + doe - 719468);  /* 719468 = 0000-03-01 .. 1970-01-01 */
}

/* The inverse of date_from_ymd, on 64-bit intermediates so that every
 * int32 day number (even TN_DATE_NONE) maps to some y-m-d without
 * overflow. */
void date_to_ymd(tn_date d, int *year, int *month, int *day)
{
    int64_t z = (int64_t)d + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;                                    /* 0..146096 */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* 0..399 */
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);             /* 0..365 */
    int64_t mp = (5 * doy + 2) / 153;                                  /* 0..11 */
    int64_t dd = doy - (153 * mp + 2) / 5 + 1;                         /* 1..31 */
    int64_t mm = mp < 10 ? mp + 3 : mp - 9;                            /* 1..12 */
    if (mm <= 2)
        y++;
    if (year)
        *year = (int)y;
    if (month)
        *month = (int)mm;
    if (day)
        *day = (int)dd;
}

static int digits_value(const char *s, size_t n, bool *ok)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            *ok = false;
            return 0;
        }
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

tn_code date_parse_iso(const char *s, tn_date *out, const char *field, tn_err *e)
{
    /* Dates can be birth dates, which are personal data: the messages
     * describe the problem but never repeat the input. */
    if (!s || !*s)
        return tn_err_set(e, TN_EINVAL, field, "is required");
    size_t n = strnlen(s, 11);
    bool ok = true;
    if (n != 10 || s[4] != '-' || s[7] != '-')
        return tn_err_set(e, TN_EINVAL, field, "must be a date of the form YYYY-MM-DD");
    int y = digits_value(s, 4, &ok);
    int m = digits_value(s + 5, 2, &ok);
    int d = digits_value(s + 8, 2, &ok);
    if (!ok)
        return tn_err_set(e, TN_EINVAL, field, "must be a date of the form YYYY-MM-DD");
    if (y < PARSE_YEAR_MIN || y > PARSE_YEAR_MAX)
        return tn_err_set(e, TN_EINVAL, field, "year must be between %d and %d",
                          PARSE_YEAR_MIN, PARSE_YEAR_MAX);
    if (!date_valid_ymd(y, m, d))
        return tn_err_set(e, TN_EINVAL, field, "date does not exist");
    if (out)
        *out = date_from_ymd(y, m, d);
    return TN_OK;
}

tn_code date_parse_iso_opt(const char *s, tn_date *out, const char *field, tn_err *e)
{
    if (!s || !*s) {
        if (out)
            *out = TN_DATE_NONE;
        return TN_OK;
    }
    return date_parse_iso(s, out, field, e);
}

char *date_format(tn_date d, char out[DATE_ISO_LEN])
{
    out[0] = '\0';
    if (d == TN_DATE_NONE)
        return out;
    int y, m, dd;
    date_to_ymd(d, &y, &m, &dd);
    /* A day number that never came from the parser could fall outside
     * four-digit years; printing it truncated would look like a real date,
     * so such values print as "no date". */
    if (y < DATE_YEAR_MIN || y > DATE_YEAR_MAX)
        return out;
    /* By hand rather than snprintf: the widths are fixed by the checks
     * above, which compilers cannot always see through. */
    static const char digits[] = "0123456789";
    out[0] = digits[y / 1000];
    out[1] = digits[y / 100 % 10];
    out[2] = digits[y / 10 % 10];
    out[3] = digits[y % 10];
    out[4] = '-';
    out[5] = digits[m / 10];
    out[6] = digits[m % 10];
    out[7] = '-';
    out[8] = digits[dd / 10];
    out[9] = digits[dd % 10];
    out[10] = '\0';
    return out;
}
