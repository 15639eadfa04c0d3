import LedgerAuditCore
import LedgerAuditReports
import Testing

@Suite("CSV cells and card masking", .removesTemporaryFolders)
struct CSVAndMaskTests {
    @Test(arguments: [
        ("plain", "plain"), ("=HYPERLINK(\"x\")", "\"'=HYPERLINK(\"\"x\"\")\""), ("+1+1", "\"'+1+1\""), ("-2", "\"'-2\""),
        ("@SUM(A1)", "\"'@SUM(A1)\""), ("\tx", "\"'\tx\""), ("a,b", "\"a,b\""), ("line\nbreak", "\"line\nbreak\""), ("é ü", "é ü"),
    ])
    func ledgerText(text: String, cell: String) {
        #expect(CSVRenderer.cell(.ledgerText(text)) == cell)
    }

    @Test func numbersStayNumbers() {
        #expect(CSVRenderer.cell(.number("-0.05")) == "-0.05")
        #expect(CSVRenderer.cell(.integer(-5)) == "-5")
    }

    @Test(arguments: [
        ("card 4111111111111111 ok", "card ************1111 ok"),
        ("4111 1111 1111 1111", "************1111"),
        ("4111-1111-1111-1111", "************1111"),
        ("x5500005555555559y", "x************5559y"),
        ("41111111111111112", "41111111111111112"),  // 17 digits, not Luhn-valid as a whole nor adjacent-free
        ("order 1234567890123", "order 1234567890123"),  // 13 digits, Luhn-invalid
        ("id 4111111111111111 and 5500005555555559", "id ************1111 and ************5559"),
        // A UUID whose digits pass Luhn is an identifier, not a card number.
        ("user:11111111-1111-4111-8111-111111111111:available", "user:11111111-1111-4111-8111-111111111111:available"),
        ("uuid 11111111-1111-4111-8111-111111111111 then 4111-1111-1111-1111", "uuid 11111111-1111-4111-8111-111111111111 then ************1111"),
    ])
    func masks(text: String, masked: String) {
        #expect(CardMask.masked(text) == masked)
    }

    @Test func luhn() {
        #expect(CardMask.luhnValid([4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]))
        #expect(!CardMask.luhnValid([4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2]))
    }

    @Test func connectionStringsLoseTheirPassword() {
        #expect(ConnectionString.redacted("postgresql://bob:s3cret@db:5432/ledger?sslmode=require") == "postgresql://bob:***@db:5432/ledger?sslmode=require")
        #expect(ConnectionString.redacted("postgresql://db/ledger?user=bob&password=s3cret") == "postgresql://db/ledger?user=bob&password=***")
        #expect(ConnectionString.redacted("host=db password=s3cret user=bob") == "host=db password=*** user=bob")
        #expect(ConnectionString.redacted("host=db password = 's3 cret' user=bob") == "host=db password = *** user=bob")
        #expect(!ConnectionString.redacted("postgresql://u:p%40ss@h/d").contains("p%40ss"))
        // The TLS key's passphrase is a secret too; libpq percent-decodes a URI's parameter names.
        #expect(ConnectionString.redacted("host=db sslpassword=k3y sslkey=/k.pem") == "host=db sslpassword=*** sslkey=/k.pem")
        #expect(ConnectionString.redacted("postgres://db/l?sslpassword=k3y&sslmode=verify-full") == "postgres://db/l?sslpassword=***&sslmode=verify-full")
        #expect(ConnectionString.redacted("postgresql://db/l?pass%77ord=s3cret&user=bob") == "postgresql://db/l?pass%77ord=***&user=bob")
        #expect(!ConnectionString.redacted("postgresql://db/l?%70assword=s3cret").contains("s3cret"))
    }

    @Test func identifiersAreQuoted() {
        #expect(ConnectionString.quoteIdentifier("event_store") == "\"event_store\"")
        #expect(ConnectionString.quoteIdentifier("a\"; DROP TABLE x; --") == "\"a\"\"; DROP TABLE x; --\"")
    }
}
