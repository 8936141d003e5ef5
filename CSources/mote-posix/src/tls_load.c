/* Loading what a TLS connection needs once: trust anchors, client certificate and key (via
 * the key-source interface), protocol versions, cipher suites, ALPN, fragment length. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mbedtls/error.h"
#include "mbedtls/pkcs5.h"
#include "mbedtls/platform_util.h"

#include "tls_internal.h"

#define MOTE_TLS_OS_BUNDLE "/etc/ssl/certs/ca-certificates.crt"

/* Fail with MOTE_ERR_FILE naming the path when it cannot be opened for reading, or is not a
 * regular file; mbedTLS's own "file I/O error" does not say which file or why, and a
 * directory (which fopen opens on Linux) reaches it as a failed allocation. */
static mote_err_t check_readable(mote_tls_t *t, const char *what, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        return mote_tls_fail(t, MOTE_ERR_FILE, "%s '%s': %s", what, path, strerror(e));
    }
    struct stat st;
    int r = fstat(fileno(f), &st);
    int e = errno;
    fclose(f);
    if (r != 0) {
        return mote_tls_fail(t, MOTE_ERR_FILE, "%s '%s': %s", what, path, strerror(e));
    }
    if (S_ISDIR(st.st_mode)) {
        return mote_tls_fail(t, MOTE_ERR_FILE, "%s '%s' is a directory%s", what, path,
                             strcmp(what, "CA file") == 0
                                 ? " (give a directory of CA certificates with --capath)"
                                 : "");
    }
    if (!S_ISREG(st.st_mode)) {
        return mote_tls_fail(t, MOTE_ERR_FILE, "%s '%s' is not a regular file", what, path);
    }
    return MOTE_OK;
}

/* Certificates in a chain (an initialised, empty one holds none). */
static size_t count_certs(const mbedtls_x509_crt *c)
{
    size_t n = 0;
    for (; c != NULL && c->raw.len != 0; c = c->next) {
        n++;
    }
    return n;
}

static mote_err_t load_trust(mote_tls_t *t, const mote_tls_config_t *cfg)
{
    char why[160];
    int loaded = 0;
    int ret;
    mote_err_t err;
    int path_failed = -1; /* files in ca_path that did not parse, when it added nothing */

    if (cfg->ca_file) {
        if ((err = check_readable(t, "CA file", cfg->ca_file)) != MOTE_OK) {
            return err;
        }
        ret = mbedtls_x509_crt_parse_file(&t->ca, cfg->ca_file);
        if (ret < 0) {
            mote_tls_describe_mbed(ret, why, sizeof why);
            return mote_tls_fail(t, MOTE_ERR_TLS_BAD_CERT, "CA file '%s': %s", cfg->ca_file, why);
        }
        loaded++;
    }
    if (cfg->ca_path) {
        size_t before = count_certs(&t->ca);
        /* A positive result counts files that did not parse: the rest still load. */
        ret = mbedtls_x509_crt_parse_path(&t->ca, cfg->ca_path);
        if (ret < 0) {
            mote_tls_describe_mbed(ret, why, sizeof why);
            return mote_tls_fail(t, MOTE_ERR_FILE, "CA directory '%s': %s", cfg->ca_path, why);
        }
        if (count_certs(&t->ca) == before) {
            path_failed = ret;
        }
        loaded++;
    }
    if (cfg->ca_data && cfg->ca_len) {
        ret = mbedtls_x509_crt_parse(&t->ca, cfg->ca_data, cfg->ca_len);
        if (ret < 0) {
            mote_tls_describe_mbed(ret, why, sizeof why);
            return mote_tls_fail(t, MOTE_ERR_TLS_BAD_CERT, "CA certificates in memory: %s", why);
        }
        loaded++;
    }
    if (cfg->use_os_certs) {
        if ((err = check_readable(t, "system CA bundle", MOTE_TLS_OS_BUNDLE)) != MOTE_OK) {
            return err;
        }
        /* A positive result counts certificates that did not parse: the rest still load. */
        ret = mbedtls_x509_crt_parse_file(&t->ca, MOTE_TLS_OS_BUNDLE);
        if (ret < 0) {
            mote_tls_describe_mbed(ret, why, sizeof why);
            return mote_tls_fail(t, MOTE_ERR_TLS_BAD_CERT, "system CA bundle: %s", why);
        }
        loaded++;
    }
    if (!loaded && !cfg->insecure) {
        return mote_tls_fail(t, MOTE_ERR_BAD_ARG,
                             "no CA to verify the server with (give a CA file, directory or "
                             "the system bundle)");
    }
    /* Trust that holds no certificate at all would fail every connection as "unknown CA",
     * blaming the server; say which source came up empty instead. */
    if (loaded && count_certs(&t->ca) == 0 && !cfg->insecure) {
        if (path_failed >= 0) {
            return mote_tls_fail(t, MOTE_ERR_TLS_BAD_CERT,
                                 "CA directory '%s' holds no certificate that parses (%d "
                                 "file%s did not parse)",
                                 cfg->ca_path, path_failed, path_failed == 1 ? "" : "s");
        }
        return mote_tls_fail(t, MOTE_ERR_TLS_BAD_CERT, "no CA certificate could be loaded");
    }
    return MOTE_OK;
}


/* Key parsing differs between mbedTLS 2.x and 3.x only by the RNG used for blinding. */
static int parse_key(mote_tls_t *t, const mote_tls_key_source_t *ks)
{
    const char *pw = ks->password;
    if (ks->file) {
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
        return mbedtls_pk_parse_keyfile(&t->key, ks->file, pw, mbedtls_ctr_drbg_random, &t->drbg);
#else
        return mbedtls_pk_parse_keyfile(&t->key, ks->file, pw);
#endif
    }
    size_t pwlen = pw ? strlen(pw) : 0;
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
    return mbedtls_pk_parse_key(&t->key, ks->data, ks->len, (const unsigned char *)pw, pwlen,
                                mbedtls_ctr_drbg_random, &t->drbg);
#else
    return mbedtls_pk_parse_key(&t->key, ks->data, ks->len, (const unsigned char *)pw, pwlen);
#endif
}

#if defined(MBEDTLS_ERR_PKCS5_FEATURE_UNAVAILABLE) && MBEDTLS_VERSION_NUMBER < 0x03000000
/* mbedTLS 2.x lacks AES in PBES2: decrypt such PKCS#8 keys ourselves (tls_pkcs8.c). */
static int parse_key_pkcs8_fallback(mote_tls_t *t, const mote_tls_key_source_t *ks)
{
    if (ks->data) {
        return mote_tls_parse_pkcs8_aes(&t->key, ks->data, ks->len, ks->password);
    }
    FILE *f = fopen(ks->file, "rb");
    if (!f) {
        return MBEDTLS_ERR_PK_FILE_IO_ERROR;
    }
    uint8_t *buf = NULL;
    size_t len = 0;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        if (n > 0 && n < (1L << 20) && fseek(f, 0, SEEK_SET) == 0 &&
            (buf = malloc((size_t)n + 1)) != NULL) {
            len = fread(buf, 1, (size_t)n, f);
            buf[len] = '\0';
        }
    }
    fclose(f);
    if (!buf) {
        return MBEDTLS_ERR_PK_FILE_IO_ERROR;
    }
    /* PEM is parsed as a string (length includes the NUL); DER by its exact length. PEM is
     * told by a BEGIN line anywhere, as mbedTLS and OpenSSL do: text may precede it (a blank
     * line, or the "Bag Attributes" that `openssl pkcs12 -nocerts` writes). */
    bool pem = strstr((const char *)buf, "-----BEGIN ") != NULL;
    int ret = mote_tls_parse_pkcs8_aes(&t->key, buf, pem ? len + 1 : len, ks->password);
    mbedtls_platform_zeroize(buf, len);
    free(buf);
    return ret;
}
#endif

/* Whether the key text says it is encrypted (PEM headers), used to name a wrong password
 * when mbedTLS only reports that the decrypted bytes do not parse. */
static bool key_looks_encrypted(const mote_tls_key_source_t *ks)
{
    char buf[4096];
    size_t n = 0;
    if (ks->file) {
        FILE *f = fopen(ks->file, "rb");
        if (!f) {
            return false;
        }
        n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
    } else if (ks->data) {
        n = ks->len < sizeof buf - 1 ? ks->len : sizeof buf - 1;
        memcpy(buf, ks->data, n);
    }
    buf[n] = '\0';
    /* DER PKCS#8 EncryptedPrivateKeyInfo carries the PBES2 OID 1.2.840.113549.1.5.13. */
    static const uint8_t pbes2[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0d };
    for (size_t i = 0; i + sizeof pbes2 <= n; i++) {
        if (memcmp(buf + i, pbes2, sizeof pbes2) == 0) {
            return true;
        }
    }
    return strstr(buf, "ENCRYPTED") != NULL;
}

static mote_err_t load_key(mote_tls_t *t, const mote_tls_key_source_t *ks)
{
    char why[160];
    mote_err_t err;
    if (ks->load) {
        /* A custom backend (PKCS#11, secure element) fills the pk context itself. */
        err = ks->load(ks->backend_ctx, &t->key);
        if (err != MOTE_OK) {
            return mote_tls_fail(t, err, "key backend failed");
        }
        return MOTE_OK;
    }
    const char *what = ks->file ? ks->file : "(memory)";
    if (ks->file && (err = check_readable(t, "key file", ks->file)) != MOTE_OK) {
        return err;
    }
    int ret = parse_key(t, ks);
#if defined(MBEDTLS_ERR_PKCS5_FEATURE_UNAVAILABLE) && MBEDTLS_VERSION_NUMBER < 0x03000000
    /* PEM input reports the missing feature; DER input only "invalid format". (3.x decrypts
     * these keys itself; there a wrong password whose garbage happens to pass the padding
     * check fails as "invalid format", which must stay a wrong password.) */
    if (ret == MBEDTLS_ERR_PKCS5_FEATURE_UNAVAILABLE ||
        (ret != 0 && ret != MBEDTLS_ERR_PK_PASSWORD_MISMATCH && ks->password &&
         key_looks_encrypted(ks))) {
        mbedtls_pk_free(&t->key);
        mbedtls_pk_init(&t->key);
        ret = parse_key_pkcs8_fallback(t, ks);
    }
#endif
    if (ret == 0) {
        return MOTE_OK;
    }
    mote_tls_describe_mbed(ret, why, sizeof why);
#if defined(MBEDTLS_ERR_PKCS5_FEATURE_UNAVAILABLE)
    if (ret == MBEDTLS_ERR_PKCS5_FEATURE_UNAVAILABLE) {
        /* OpenSSL 3 encrypts PKCS#8 keys with PBKDF2-HMAC-SHA256, which mbedTLS 2.x lacks. */
        return mote_tls_fail(t, MOTE_ERR_TLS_BAD_CERT,
                             "key '%s' is encrypted with a scheme this mbedTLS cannot decrypt; "
                             "re-encrypt it: openssl pkcs8 -topk8 -v2 aes-256-cbc -v2prf "
                             "hmacWithSHA1", what);
    }
#endif
    if (ret == MBEDTLS_ERR_PK_PASSWORD_REQUIRED) {
        return mote_tls_fail(t, MOTE_ERR_TLS_KEY_PASSWORD,
                             "key '%s' is encrypted: give its password (--keypass)", what);
    }
    if (ret == MBEDTLS_ERR_PK_PASSWORD_MISMATCH ||
        (ks->password && key_looks_encrypted(ks))) {
        return mote_tls_fail(t, MOTE_ERR_TLS_KEY_PASSWORD, "key '%s': wrong password (%s)", what,
                             why);
    }
    if (!ks->password && key_looks_encrypted(ks)) {
        return mote_tls_fail(t, MOTE_ERR_TLS_KEY_PASSWORD,
                             "key '%s' is encrypted: give its password (--keypass)", what);
    }
    if (ret == MBEDTLS_ERR_PK_FILE_IO_ERROR) {
        return mote_tls_fail(t, MOTE_ERR_FILE, "key '%s': %s", what, why);
    }
    return mote_tls_fail(t, MOTE_ERR_TLS_BAD_CERT, "key '%s': %s", what, why);
}

static mote_err_t load_identity(mote_tls_t *t, const mote_tls_config_t *cfg)
{
    char why[160];
    int ret;
    mote_err_t err;
    bool has_cert = cfg->cert_file || (cfg->cert_data && cfg->cert_len);
    bool has_key = cfg->key.file || (cfg->key.data && cfg->key.len) || cfg->key.load;
    if (!has_cert && !has_key) {
        return MOTE_OK;
    }
    if (has_cert != has_key) {
        return mote_tls_fail(t, MOTE_ERR_BAD_ARG, "%s",
                             has_cert ? "a client certificate needs its private key (--key)"
                                      : "a private key needs its certificate (--cert)");
    }
    if (cfg->cert_file) {
        if ((err = check_readable(t, "certificate file", cfg->cert_file)) != MOTE_OK) {
            return err;
        }
        ret = mbedtls_x509_crt_parse_file(&t->cert, cfg->cert_file);
    } else {
        ret = mbedtls_x509_crt_parse(&t->cert, cfg->cert_data, cfg->cert_len);
    }
    if (ret != 0) {
        mote_tls_describe_mbed(ret, why, sizeof why);
        return mote_tls_fail(t, MOTE_ERR_TLS_BAD_CERT, "certificate '%s': %s",
                             cfg->cert_file ? cfg->cert_file : "(memory)", why);
    }
    if ((err = load_key(t, &cfg->key)) != MOTE_OK) {
        return err;
    }
    /* Catch a key that belongs to another certificate here, with a clear message, instead
     * of as an opaque "decrypt error" alert from the server later. Token-held keys cannot
     * always be compared, so custom backends are trusted. */
    if (!cfg->key.load) {
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
        ret = mbedtls_pk_check_pair(&t->cert.pk, &t->key, mbedtls_ctr_drbg_random, &t->drbg);
#else
        ret = mbedtls_pk_check_pair(&t->cert.pk, &t->key);
#endif
        if (ret != 0) {
            return mote_tls_fail(t, MOTE_ERR_TLS_KEY_MISMATCH, "key '%s' does not belong to certificate '%s'",
                                 cfg->key.file ? cfg->key.file : "(memory)",
                                 cfg->cert_file ? cfg->cert_file : "(memory)");
        }
    }
    if (mbedtls_ssl_conf_own_cert(&t->conf, &t->cert, &t->key) != 0) {
        return mote_tls_fail(t, MOTE_ERR_TLS, "cannot use the client certificate");
    }
    t->have_cert = true;
    return MOTE_OK;
}

static mote_err_t load_versions(mote_tls_t *t, const mote_tls_config_t *cfg)
{
    const char *v = cfg->tls_version;
    bool only12 = false, only13 = false;
    if (v && *v) {
        if (strcmp(v, "tlsv1.2") == 0) {
            only12 = true;
        } else if (strcmp(v, "tlsv1.3") == 0) {
            only13 = true;
        } else {
            return mote_tls_fail(t, MOTE_ERR_BAD_ARG,
                                 "TLS version '%s' not allowed (tlsv1.2 or tlsv1.3)", v);
        }
    }
#if defined(MBEDTLS_SSL_PROTO_TLS1_3)
#if MBEDTLS_VERSION_NUMBER >= 0x03020000
    mbedtls_ssl_conf_min_tls_version(&t->conf, only13 ? MBEDTLS_SSL_VERSION_TLS1_3
                                                      : MBEDTLS_SSL_VERSION_TLS1_2);
    mbedtls_ssl_conf_max_tls_version(&t->conf, only12 ? MBEDTLS_SSL_VERSION_TLS1_2
                                                      : MBEDTLS_SSL_VERSION_TLS1_3);
#else
    mbedtls_ssl_conf_min_version(&t->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
                                 only13 ? MBEDTLS_SSL_MINOR_VERSION_4 : MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_max_version(&t->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
                                 only12 ? MBEDTLS_SSL_MINOR_VERSION_3 : MBEDTLS_SSL_MINOR_VERSION_4);
#endif
#else
    (void)only12;
    if (only13) {
        return mote_tls_fail(t, MOTE_ERR_UNSUPPORTED,
                             "TLS 1.3 is not available in mbedTLS %s", MBEDTLS_VERSION_STRING);
    }
#if MBEDTLS_VERSION_NUMBER >= 0x03020000
    mbedtls_ssl_conf_min_tls_version(&t->conf, MBEDTLS_SSL_VERSION_TLS1_2);
    mbedtls_ssl_conf_max_tls_version(&t->conf, MBEDTLS_SSL_VERSION_TLS1_2);
#else
    /* Nothing older than TLS 1.2 (major 3, minor 3 in the record layer's numbering). */
    mbedtls_ssl_conf_min_version(&t->conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_max_version(&t->conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
#endif
#endif
    return MOTE_OK;
}

/* ECDHE key exchange (forward secrecy) with AEAD ciphers only: what AWS IoT offers and
 * what current guidance asks for. TLS 1.3 suites are all AEAD with (EC)DHE. */
static const char *const default_ciphers[] = {
    "TLS1-3-AES-128-GCM-SHA256",
    "TLS1-3-AES-256-GCM-SHA384",
    "TLS1-3-CHACHA20-POLY1305-SHA256",
    "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256",
    "TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256",
    "TLS-ECDHE-ECDSA-WITH-AES-256-GCM-SHA384",
    "TLS-ECDHE-RSA-WITH-AES-256-GCM-SHA384",
    "TLS-ECDHE-ECDSA-WITH-CHACHA20-POLY1305-SHA256",
    "TLS-ECDHE-RSA-WITH-CHACHA20-POLY1305-SHA256",
};

/* OpenSSL's names (what mosquitto_pub --ciphers takes) for the usual suites. */
static const struct {
    const char *openssl;
    const char *mbed;
} openssl_names[] = {
    { "ECDHE-ECDSA-AES128-GCM-SHA256", "TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256" },
    { "ECDHE-RSA-AES128-GCM-SHA256", "TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256" },
    { "ECDHE-ECDSA-AES256-GCM-SHA384", "TLS-ECDHE-ECDSA-WITH-AES-256-GCM-SHA384" },
    { "ECDHE-RSA-AES256-GCM-SHA384", "TLS-ECDHE-RSA-WITH-AES-256-GCM-SHA384" },
    { "ECDHE-ECDSA-CHACHA20-POLY1305", "TLS-ECDHE-ECDSA-WITH-CHACHA20-POLY1305-SHA256" },
    { "ECDHE-RSA-CHACHA20-POLY1305", "TLS-ECDHE-RSA-WITH-CHACHA20-POLY1305-SHA256" },
    { "ECDHE-ECDSA-AES128-SHA256", "TLS-ECDHE-ECDSA-WITH-AES-128-CBC-SHA256" },
    { "ECDHE-RSA-AES128-SHA256", "TLS-ECDHE-RSA-WITH-AES-128-CBC-SHA256" },
    { "ECDHE-ECDSA-AES256-SHA384", "TLS-ECDHE-ECDSA-WITH-AES-256-CBC-SHA384" },
    { "ECDHE-RSA-AES256-SHA384", "TLS-ECDHE-RSA-WITH-AES-256-CBC-SHA384" },
    { "AES128-GCM-SHA256", "TLS-RSA-WITH-AES-128-GCM-SHA256" },
    { "AES256-GCM-SHA384", "TLS-RSA-WITH-AES-256-GCM-SHA384" },
    { "TLS_AES_128_GCM_SHA256", "TLS1-3-AES-128-GCM-SHA256" },
    { "TLS_AES_256_GCM_SHA384", "TLS1-3-AES-256-GCM-SHA384" },
    { "TLS_CHACHA20_POLY1305_SHA256", "TLS1-3-CHACHA20-POLY1305-SHA256" },
};

/* A suite id from an mbedTLS name, an IANA name (underscores) or an OpenSSL name; 0 if
 * unknown to this mbedTLS build. */
static int cipher_id(const char *name)
{
    char buf[96];
    size_t n = strlen(name);
    int id;
    if (n == 0 || n >= sizeof buf) {
        return 0;
    }
    for (size_t i = 0; i < sizeof openssl_names / sizeof openssl_names[0]; i++) {
        if (strcmp(name, openssl_names[i].openssl) == 0) {
            return mbedtls_ssl_get_ciphersuite_id(openssl_names[i].mbed);
        }
    }
    if ((id = mbedtls_ssl_get_ciphersuite_id(name)) != 0) {
        return id;
    }
    for (size_t i = 0; i <= n; i++) {
        buf[i] = name[i] == '_' ? '-' : name[i];
    }
    return mbedtls_ssl_get_ciphersuite_id(buf);
}

static mote_err_t load_ciphers(mote_tls_t *t, const mote_tls_config_t *cfg)
{
    size_t n = 0;
    if (!cfg->ciphers || !*cfg->ciphers) {
        for (size_t i = 0; i < sizeof default_ciphers / sizeof default_ciphers[0]; i++) {
            int id = mbedtls_ssl_get_ciphersuite_id(default_ciphers[i]);
            if (id != 0) {
                t->ciphers[n++] = id;
            }
        }
    } else {
        const char *p = cfg->ciphers;
        while (*p) {
            char name[96];
            size_t len = strcspn(p, ":, ");
            if (len > 0) {
                int id;
                if (len >= sizeof name) {
                    return mote_tls_fail(t, MOTE_ERR_BAD_ARG, "cipher suite name too long");
                }
                memcpy(name, p, len);
                name[len] = '\0';
                id = cipher_id(name);
                if (id == 0) {
                    return mote_tls_fail(t, MOTE_ERR_BAD_ARG,
                                         "cipher suite '%s' unknown to this mbedTLS", name);
                }
                if (n >= MOTE_TLS_MAX_CIPHERS) {
                    return mote_tls_fail(t, MOTE_ERR_BAD_ARG, "too many cipher suites");
                }
                t->ciphers[n++] = id;
            }
            p += len;
            if (*p) {
                p++;
            }
        }
    }
    if (n == 0) {
        return mote_tls_fail(t, MOTE_ERR_BAD_ARG, "no usable cipher suite");
    }
    t->ciphers[n] = 0;
    mbedtls_ssl_conf_ciphersuites(&t->conf, t->ciphers);
    return MOTE_OK;
}

/* Key-exchange groups, fastest first. mbedTLS 2.x's default list starts at secp521r1 and
 * OpenSSL servers follow the client's order, which costs milliseconds per handshake. The
 * list also bounds the curves accepted for the server's certificate key, hence P-521. */
static void load_groups(mote_tls_t *t)
{
#if MBEDTLS_VERSION_NUMBER >= 0x03010000
    static const uint16_t groups[] = {
#if defined(MBEDTLS_ECP_DP_CURVE25519_ENABLED)
        MBEDTLS_SSL_IANA_TLS_GROUP_X25519,
#endif
        MBEDTLS_SSL_IANA_TLS_GROUP_SECP256R1,
        MBEDTLS_SSL_IANA_TLS_GROUP_SECP384R1,
        MBEDTLS_SSL_IANA_TLS_GROUP_SECP521R1,
        MBEDTLS_SSL_IANA_TLS_GROUP_NONE
    };
    mbedtls_ssl_conf_groups(&t->conf, groups);
#elif defined(MBEDTLS_ECP_C)
    static const mbedtls_ecp_group_id groups[] = {
#if defined(MBEDTLS_ECP_DP_CURVE25519_ENABLED)
        MBEDTLS_ECP_DP_CURVE25519,
#endif
#if defined(MBEDTLS_ECP_DP_SECP256R1_ENABLED)
        MBEDTLS_ECP_DP_SECP256R1,
#endif
#if defined(MBEDTLS_ECP_DP_SECP384R1_ENABLED)
        MBEDTLS_ECP_DP_SECP384R1,
#endif
#if defined(MBEDTLS_ECP_DP_SECP521R1_ENABLED)
        MBEDTLS_ECP_DP_SECP521R1,
#endif
        MBEDTLS_ECP_DP_NONE
    };
    mbedtls_ssl_conf_curves(&t->conf, groups);
#else
    (void)t;
#endif
}

static mote_err_t load_alpn(mote_tls_t *t, const mote_tls_config_t *cfg)
{
    if (!cfg->alpn || !cfg->alpn[0]) {
        return MOTE_OK;
    }
#if defined(MBEDTLS_SSL_ALPN)
    size_t used = 0, n = 0;
    for (; cfg->alpn[n]; n++) {
        size_t len = strlen(cfg->alpn[n]);
        if (n >= MOTE_TLS_MAX_ALPN || len == 0 || len > 255 ||
            used + len + 1 > sizeof t->alpn_buf) {
            return mote_tls_fail(t, MOTE_ERR_BAD_ARG, "ALPN list too long or has an empty name");
        }
        /* mbedTLS keeps the pointers: they must live as long as the configuration. */
        memcpy(t->alpn_buf + used, cfg->alpn[n], len + 1);
        t->alpn[n] = t->alpn_buf + used;
        used += len + 1;
    }
    t->alpn[n] = NULL;
    if (mbedtls_ssl_conf_alpn_protocols(&t->conf, t->alpn) != 0) {
        return mote_tls_fail(t, MOTE_ERR_BAD_ARG, "ALPN list rejected by mbedTLS");
    }
    return MOTE_OK;
#else
    return mote_tls_fail(t, MOTE_ERR_UNSUPPORTED, "this mbedTLS has no ALPN support");
#endif
}

static mote_err_t load_fragment(mote_tls_t *t, const mote_tls_config_t *cfg)
{
    if (cfg->max_fragment_len == 0) {
        return MOTE_OK;
    }
#if defined(MBEDTLS_SSL_MAX_FRAGMENT_LENGTH)
    unsigned char code;
    switch (cfg->max_fragment_len) {
    case 512: code = MBEDTLS_SSL_MAX_FRAG_LEN_512; break;
    case 1024: code = MBEDTLS_SSL_MAX_FRAG_LEN_1024; break;
    case 2048: code = MBEDTLS_SSL_MAX_FRAG_LEN_2048; break;
    case 4096: code = MBEDTLS_SSL_MAX_FRAG_LEN_4096; break;
    default:
        return mote_tls_fail(t, MOTE_ERR_BAD_ARG, "max fragment length %u (512, 1024, 2048 or 4096)",
                             (unsigned)cfg->max_fragment_len);
    }
    mbedtls_ssl_conf_max_frag_len(&t->conf, code);
    return MOTE_OK;
#else
    return mote_tls_fail(t, MOTE_ERR_UNSUPPORTED, "this mbedTLS has no max fragment length");
#endif
}

#if defined(MBEDTLS_SSL_PROTO_TLS1_3) && MBEDTLS_VERSION_NUMBER >= 0x03020000
/* With TLS 1.2 and 1.3 both enabled, narrow the versions offered to what the rest of the
 * configuration can use. mbedTLS 3.6 offers TLS 1.3 even when the cipher list holds no 1.3
 * suite, and a server that picks 1.3 then fails the handshake (alert handshake_failure);
 * likewise for 1.2 with only 1.3 suites. Its TLS 1.3 client has no max_fragment_length
 * (a server acknowledging it fails the handshake with "unsupported extension"), so a
 * fragment limit means TLS 1.2. TLS 1.3 signs with RSA only as RSA-PSS, which an RSA key
 * from a key backend (RSA_ALT: PKCS#1 v1.5 signatures only) cannot: such a key means 1.2. */
static mote_err_t fit_versions(mote_tls_t *t, const mote_tls_config_t *cfg)
{
    const char *v = cfg->tls_version;
    bool only12 = v && strcmp(v, "tlsv1.2") == 0, only13 = v && strcmp(v, "tlsv1.3") == 0;
    bool has12 = false, has13 = false;
    for (size_t i = 0; t->ciphers[i] != 0; i++) {
        /* RFC 8446 B.4: TLS 1.3 suites are 0x1301..0x1305 and work only there. */
        if (t->ciphers[i] >= 0x1301 && t->ciphers[i] <= 0x1305) {
            has13 = true;
        } else {
            has12 = true;
        }
    }
    bool rsa_without_pss = t->have_cert && mbedtls_pk_can_do(&t->key, MBEDTLS_PK_RSA) &&
                           !mbedtls_pk_can_do(&t->key, MBEDTLS_PK_RSASSA_PSS);
    if (only13 && rsa_without_pss) {
        return mote_tls_fail(t, MOTE_ERR_UNSUPPORTED,
                             "the key backend's RSA key cannot sign RSA-PSS, which TLS 1.3 needs");
    }
    if (only13 && cfg->max_fragment_len != 0) {
        return mote_tls_fail(t, MOTE_ERR_UNSUPPORTED,
                             "max fragment length is not available with TLS 1.3 in mbedTLS %s",
                             MBEDTLS_VERSION_STRING);
    }
    if ((only13 && !has13) || (only12 && !has12)) {
        return mote_tls_fail(t, MOTE_ERR_BAD_ARG, "no cipher suite in the list for %s", v);
    }
    if (!has12 && (cfg->max_fragment_len != 0 || rsa_without_pss)) {
        return mote_tls_fail(t, MOTE_ERR_BAD_ARG, "%s needs a TLS 1.2 cipher suite",
                             rsa_without_pss ? "the key backend's RSA key"
                                             : "a max fragment length");
    }
    if (!has13 || cfg->max_fragment_len != 0 || rsa_without_pss) {
        mbedtls_ssl_conf_max_tls_version(&t->conf, MBEDTLS_SSL_VERSION_TLS1_2);
    } else if (!has12) {
        mbedtls_ssl_conf_min_tls_version(&t->conf, MBEDTLS_SSL_VERSION_TLS1_3);
    }
    return MOTE_OK;
}
#endif

mote_err_t mote_tls_load_config(mote_tls_t *t, const mote_tls_config_t *cfg)
{
    mote_err_t err;
    if ((err = load_versions(t, cfg)) != MOTE_OK || (err = load_ciphers(t, cfg)) != MOTE_OK ||
        (err = load_alpn(t, cfg)) != MOTE_OK || (err = load_fragment(t, cfg)) != MOTE_OK ||
        (err = load_trust(t, cfg)) != MOTE_OK || (err = load_identity(t, cfg)) != MOTE_OK) {
        return err;
    }
#if defined(MBEDTLS_SSL_PROTO_TLS1_3) && MBEDTLS_VERSION_NUMBER >= 0x03020000
    if ((err = fit_versions(t, cfg)) != MOTE_OK) { /* after the identity: it needs the key */
        return err;
    }
#endif
    load_groups(t);
    mbedtls_ssl_conf_ca_chain(&t->conf, &t->ca, NULL);
    return MOTE_OK;
}
