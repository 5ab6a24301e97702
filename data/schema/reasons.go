package schema

// Reasons a raw row is rejected into quarantine. Ingestion reports exactly
// these strings, per table, in its manifest; the generator's --dirty mode
// records how many rows of each it injected, keyed the same way, so a test
// can check that ingestion finds every one.
const (
	// ReasonMalformed: the line cannot be read as a row of the table
	// (wrong column count, truncated line, broken quoting, invalid JSON).
	ReasonMalformed = "malformed_row"
	// ReasonBadDate: a date or time that no accepted form parses.
	ReasonBadDate = "bad_date"
	// ReasonBadAmount: a money value that does not parse ("1,000.00" does).
	ReasonBadAmount = "bad_amount"
	// ReasonBadNumber: an integer or rate that does not parse.
	ReasonBadNumber = "bad_number"
	// ReasonBadEnum: a value outside the enum, Chinese aliases included.
	ReasonBadEnum = "bad_enum"
	// ReasonNegative: a negative money amount or count where none may be.
	ReasonNegative = "negative_amount"
	// ReasonMissing: a required value is empty.
	ReasonMissing = "missing_value"
	// ReasonDuplicate: the same row (all columns equal after
	// normalisation) was already accepted; the copy is quarantined.
	ReasonDuplicate = "duplicate_row"
	// ReasonDuplicateKey: another row with the same key but different
	// content was already accepted.
	ReasonDuplicateKey = "duplicate_key"
	// ReasonOrphan: a reference to a parent row that is not in the lake
	// (a repayment of an unknown loan).
	ReasonOrphan = "orphan"
	// ReasonDateOrder: dates out of order (a repayment before the loan's
	// issue date, a due date before issue).
	ReasonDateOrder = "date_order"
	// ReasonOutOfRange: a value outside its plausible range (term 0 or
	// over 120 months, a rate above 100%).
	ReasonOutOfRange = "out_of_range"
	// ReasonBadEncoding: a line that is valid in neither UTF-8 nor GBK
	// (or not in the file's declared encoding).
	ReasonBadEncoding = "bad_encoding"
	// ReasonBadChar: a line holding a NUL byte.
	ReasonBadChar = "bad_char"
	// ReasonTooLong: a line (or quoted multi-line record) longer than the
	// configured maximum (1 MiB by default); its raw text is truncated in
	// the quarantine.
	ReasonTooLong = "line_too_long"
)

// Reasons lists every rejection reason.
func Reasons() []string {
	return []string{ReasonMalformed, ReasonBadDate, ReasonBadAmount, ReasonBadNumber, ReasonBadEnum,
		ReasonNegative, ReasonMissing, ReasonDuplicate, ReasonDuplicateKey, ReasonOrphan,
		ReasonDateOrder, ReasonOutOfRange, ReasonBadEncoding, ReasonBadChar, ReasonTooLong}
}

// Normalisations that ingestion applies silently (they are not defects).
// The generator's --dirty mode records how many it injected under these
// names too, and ingestion reports how many it applied.
const (
	NormThousands = "thousands_separator" // "1,000.00"
	NormDateForm  = "date_form"           // "2018/5/1", "20180501"
	NormChinese   = "chinese_enum"        // 结清 -> settled
)
