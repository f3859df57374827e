// compare.js: lcx's ids and decodes against the reference's.
//   node compare.js NAME CORPUS.jsonl REF_IDS REF_DECODED REF_SKIPPED LCX_IDS LCX_DECODED LCX_SKIPPED
// (SKIPPED: decoded with skip_special_tokens, used for the round trip.)
// Prints one summary line (and the first mismatches); exit 1 on any mismatch.
'use strict';
const fs = require('fs');

const [name, corpus, refIds, refDec, refSkip, gotIds, gotDec, gotSkip] = process.argv.slice(2);
const lines = (f) => fs.readFileSync(f, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
const docs = lines(corpus), want = lines(refIds), wantText = lines(refDec);
const got = lines(gotIds), gotText = lines(gotDec), wantSkip = lines(refSkip), gotSkipText = lines(gotSkip);

let ids = 0, same = 0, docsSame = 0, decSame = 0, roundTrips = 0, roundOk = 0, shown = 0;
const show = (msg) => { if (shown++ < 5) console.log('  ' + msg); };
for (let i = 0; i < docs.length; i++) {
    const a = want[i] || [], b = got[i] || [];
    ids += a.length;
    let firstDiff = -1;
    for (let k = 0; k < a.length; k++) {
        if (a[k] === b[k]) same++;
        else if (firstDiff < 0) firstDiff = k;
    }
    if (a.length === b.length && firstDiff < 0) docsSame++;
    else {
        const k = firstDiff < 0 ? Math.min(a.length, b.length) : firstDiff;
        show(`doc ${i}: ids differ at ${k} (len ${a.length} vs ${b.length}): want ${JSON.stringify(a.slice(Math.max(0, k - 2), k + 4))} got ${JSON.stringify(b.slice(Math.max(0, k - 2), k + 4))} text ${JSON.stringify(docs[i].slice(0, 120))}`);
    }
    if (wantText[i] === gotText[i]) decSame++;
    else show(`doc ${i}: decode differs: want ${JSON.stringify(wantText[i].slice(0, 80))} got ${JSON.stringify(String(gotText[i]).slice(0, 80))}`);
    if (wantSkip[i] !== gotSkipText[i]) show(`doc ${i}: decode (skip special) differs`);
    if (wantText[i] === docs[i] || wantSkip[i] === docs[i]) {
        roundTrips++;
        if ((wantText[i] === docs[i] && gotText[i] === docs[i]) || (wantSkip[i] === docs[i] && gotSkipText[i] === docs[i])) roundOk++;
    }
}
const pct = (x, n) => (n ? (100 * x / n).toFixed(4) : '100.0000') + '%';
const bytes = docs.reduce((s, d) => s + Buffer.byteLength(d), 0);
console.log(`${name}: ${docs.length} docs, ${bytes} bytes, ${ids} ids compared, ${pct(same, ids)} identical ids, ` +
    `${docsSame}/${docs.length} docs identical, decode ${decSame}/${docs.length} identical, ` +
    `round trip ${roundOk}/${roundTrips} (where the reference round-trips)`);
process.exit(docsSame === docs.length && decSame === docs.length && roundOk === roundTrips ? 0 : 1);
