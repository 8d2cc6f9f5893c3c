// Copyright 2010 The Go Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package htmltoken

import (
	"bytes"
	"html"
)

// unescapeText unescapes b's entities, so that "a&lt;b" becomes "a<b", as
// x/net/html's unescape(b, false) does for text outside attributes.
//
// lockstep fork: the standard library's html.UnescapeString runs the same
// algorithm on the same entity table (x/net/html's own copy was built in
// package initialisation, the standard library's on first use).
func unescapeText(b []byte) []byte {
	if bytes.IndexByte(b, '&') < 0 {
		return b
	}
	return []byte(html.UnescapeString(string(b)))
}

// lower lower-cases the A-Z bytes in b in-place, so that "aBc" becomes "abc".
func lower(b []byte) []byte {
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return b
}
