#ifndef LEDGER_AUDIT_CMIMALLOC_SHIM_H
#define LEDGER_AUDIT_CMIMALLOC_SHIM_H
// Linked into the executable only: as a library the executable needs, ahead of libc, its
// malloc and free are the ones every allocation in the process resolves to.
#include <mimalloc.h>
#endif
