/* lock_holder — for unit tests of openers that must wait for another
 * process's long write (a migration, a read log conversion): a child
 * process that holds an SQLite file's write lock past the usual 5 s busy
 * timeout of other opens. */
#ifndef LOCK_HOLDER_H
#define LOCK_HOLDER_H

#include <sqlite3.h>
#include <stdbool.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* Fork a child that takes path's write lock (BEGIN IMMEDIATE) and keeps
 * it for hold_ms. Returns once the child holds it, or -1 (the child could
 * not take it, or no child). */
static inline pid_t lock_holder_start(const char *path, unsigned hold_ms)
{
    int p[2];
    if (pipe(p) != 0)
        return -1;
    pid_t kid = fork();
    if (kid == 0) {
        close(p[0]);
        sqlite3 *db = NULL;
        int rc = sqlite3_open(path, &db) == SQLITE_OK &&
                         sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK &&
                         write(p[1], "x", 1) == 1
                     ? 0
                     : 2;
        usleep(hold_ms * 1000);
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close(db);
        _exit(rc);
    }
    /* Without the parent's copy of the write end, a child that cannot
     * take the lock ends the read (0 bytes) instead of hanging it. */
    close(p[1]);
    char c;
    bool held = kid > 0 && read(p[0], &c, 1) == 1;
    close(p[0]);
    if (kid > 0 && !held)
        waitpid(kid, NULL, 0);
    return held ? kid : -1;
}

/* Whether the child ended as it should (it held the lock, then let go). */
static inline bool lock_holder_end(pid_t kid)
{
    int status;
    return waitpid(kid, &status, 0) == kid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

#endif
