/* tunnus — identity lifecycle and access management. Subcommand dispatch
 * lives in src/cli. */
#include "cli.h"

int main(int argc, char **argv)
{
    return cli_main(argc, argv);
}
