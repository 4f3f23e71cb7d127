/* Tuning of one SQLite connection (store_set_busy_timeout). */
#include "store_sqlite_int.h"

void sq_set_busy_timeout(void *priv, int ms)
{
    sq *q = priv;
    sqlite3_busy_timeout(q->db, ms);
}
