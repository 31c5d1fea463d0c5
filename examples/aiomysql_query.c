/* Seed 001 §5.2, example 1: one MariaDB/MySQL connection, one query, its rows printed.
 *
 *     async def execute():
 *         conn = await aiomysql.connect(host='127.0.0.1', port=3306, user='root',
 *                                       password='123', db='mysql', )
 *         cur = await conn.cursor()
 *         await cur.execute("SELECT Host,User FROM user")
 *         result = await cur.fetchall()
 *         print(result)
 *         await cur.close()
 *         conn.close()
 *
 *     asyncio.run(execute())
 *
 * The server's URL comes from the environment (ACIO_MYSQL_URL, default
 * mysql://root:123@127.0.0.1:3306/mysql); the test runs it against a local mariadbd
 * (tests/run_with_mysql.sh). acio has no cursor object: the query's result is what
 * fetchall() returns, printed as Python prints a tuple of tuples. */
#include <stdio.h>
#include <stdlib.h>

#include <acio.h>

/* print(result): (('h1', 'u1'), ('h2', 'u2')) */
static void print_rows(const acio_mysql_result_t *r)
{
    size_t n = acio_mysql_result_nrows(r);
    int cols = acio_mysql_result_ncols(r);
    printf("(");
    for (size_t i = 0; i < n; i++) {
        printf("%s(", i ? ", " : "");
        for (int j = 0; j < cols; j++) {
            const char *v = acio_mysql_result_text(r, i, j, NULL);
            if (v)
                printf("%s'%s'", j ? ", " : "", v);
            else
                printf("%sNone", j ? ", " : "");
        }
        printf(cols == 1 ? ",)" : ")");
    }
    printf(n == 1 ? ",)\n" : ")\n");
}

static void *execute(void *arg)
{
    const char *url = arg;
    acio_mysql_t *conn;
    int rc = acio_mysql_connect_url(&conn, url, NULL);
    if (rc < 0)
        return acio_raise(rc, "connecting: %s", acio_mysql_connect_error());

    acio_mysql_result_t *result = NULL;
    rc = acio_mysql_query(conn, "SELECT Host,User FROM user", &result);
    if (rc < 0) {
        void *err = acio_raise(rc, "query: %s", acio_mysql_error_message(conn));
        acio_mysql_close(conn);
        return err;
    }
    print_rows(result);
    acio_mysql_result_free(result);
    acio_mysql_close(conn);
    return NULL;
}

int main(void)
{
    const char *url = getenv("ACIO_MYSQL_URL");
    char *msg = NULL;
    int rc = acio_run_ex(execute, (void *)(url ? url : "mysql://root:123@127.0.0.1:3306/mysql"),
                         NULL, &msg);
    if (rc < 0) {
        fprintf(stderr, "aiomysql_query: %s\n", msg ? msg : acio_strerror(rc));
        free(msg);
        return 1;
    }
    return 0;
}
