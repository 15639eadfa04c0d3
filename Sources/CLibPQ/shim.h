#ifndef LEDGER_AUDIT_CLIBPQ_SHIM_H
#define LEDGER_AUDIT_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
