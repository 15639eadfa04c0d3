#ifndef LEDGER_AUDIT_CLIBXML2_SHIM_H
#define LEDGER_AUDIT_CLIBXML2_SHIM_H
#include <libxml/xmlversion.h>
/* Debian builds libxml2 with ICU, whose headers clash with Foundation's own ICU module.
   Nothing here touches the ICU converter fields (used through pointers only), so hide them. */
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlsave.h>
#include <libxml/xmlwriter.h>
#include <libxml/xmlschemas.h>
#include <libxml/xmlerror.h>

/* xmlFree is a mutable C global: Swift 6 cannot touch it directly. */
static inline void ledger_audit_xml_free(void *p) { xmlFree(p); }
#endif
