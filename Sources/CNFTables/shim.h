// libnftables (Debian libnftables-dev): fwsessiond's data plane writes its table through it.
// The header needs the fixed-width integer and FILE types first.
#include <stdint.h>
#include <stdio.h>
#include <stdbool.h>
#include <nftables/libnftables.h>
