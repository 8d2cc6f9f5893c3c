package engine

// Item is one record of a store: attribute name → value. Values are one of
//
//	string          DynamoDB S, SQLite TEXT
//	Number          DynamoDB N, SQLite INTEGER/REAL — a decimal string, never float64
//	[]byte          B, BLOB
//	bool            BOOL
//	nil             NULL
//	[]any           L
//	map[string]any  M
//	StringSet, NumberSet, BinarySet   SS, NS, BS
//
// so that every DynamoDB value round-trips without loss.
type Item map[string]any

// Number is a decimal number kept as its exact decimal string.
type Number string

// StringSet is a DynamoDB string set.
type StringSet []string

// NumberSet is a DynamoDB number set.
type NumberSet []Number

// BinarySet is a DynamoDB binary set.
type BinarySet [][]byte
