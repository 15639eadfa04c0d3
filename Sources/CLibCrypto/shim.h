#ifndef LEDGER_AUDIT_CLIBCRYPTO_SHIM_H
#define LEDGER_AUDIT_CLIBCRYPTO_SHIM_H
/* OpenSSL's RFC 3161 time-stamp API (requests, responses, verification against a CA). */
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/bn.h>
/* EVP digests: SHA-512 of the bag's files (OpenSSL's AVX2 code). */
#include <openssl/evp.h>
#endif
