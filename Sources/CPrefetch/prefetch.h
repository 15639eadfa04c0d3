#ifndef LEDGER_AUDIT_CPREFETCH_H
#define LEDGER_AUDIT_CPREFETCH_H
/* Asks the CPU to start loading the cache line holding `address` (a hint: never faults, never
   changes a value). Swift has no spelling for the instruction. */
static inline void ledger_audit_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }
#endif
