// train_vocab_check.js: a vocabulary learnt by lcx (train/vocab.c), read by
// Hugging Face tokenizers itself (the Rust library through
// @anush008/tokenizers).
//   node train_vocab_check.js corpus TEXT OUT.jsonl
//       documents: slices of the RULER training text TEXT, random bytes read
//       as UTF-8 (invalid sequences become U+FFFD) and random code points
//   node train_vocab_check.js encode NPM_DIR TOKENIZER.json CORPUS.jsonl OUT.jsonl ADD_SPECIAL(0|1)
//       the reference ids, one JSON array per line; also checks that the
//       reference decodes every document back (skipping special tokens)
//   node train_vocab_check.js compare NAME CORPUS.jsonl WANT.jsonl GOT.jsonl
//       one summary line; exit 1 on any difference
'use strict';
const fs = require('fs');
const path = require('path');

const lines = (f) => fs.readFileSync(f, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
const writeLines = (f, xs) => fs.writeFileSync(f, xs.map((x) => JSON.stringify(x)).join('\n') + '\n');

let seed = 20240605;
function rand() {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
}

function corpus(textPath, out) {
    const text = fs.readFileSync(textPath, 'utf8');
    const docs = [];
    // 240 slices of the training text, 200 to 3000 characters, from anywhere
    const chars = Array.from(text.slice(0, 2000000));
    for (let i = 0; i < 240; i++) {
        const len = 200 + Math.floor(rand() * 2800);
        const at = Math.floor(rand() * Math.max(1, chars.length - len));
        docs.push(chars.slice(at, at + len).join(''));
    }
    // random bytes as UTF-8
    for (let i = 0; i < 300; i++) {
        const n = 1 + Math.floor(rand() * 300);
        const b = Buffer.alloc(n);
        for (let k = 0; k < n; k++) b[k] = rand() < 0.5 ? 32 + Math.floor(rand() * 95) : Math.floor(rand() * 256);
        docs.push(b.toString('utf8'));
    }
    // random code points: whitespace, digits, Latin, CJK, emoji, marks
    const ranges = [[0x20, 0x7e], [0x09, 0x0d], [0x30, 0x39], [0xa0, 0x24f], [0x4e00, 0x4f00], [0x1f600, 0x1f64f], [0x300, 0x36f], [0x2000, 0x206f]];
    for (let i = 0; i < 300; i++) {
        const n = 1 + Math.floor(rand() * 120);
        let s = '';
        for (let k = 0; k < n; k++) {
            const r = ranges[Math.floor(rand() * ranges.length)];
            s += String.fromCodePoint(r[0] + Math.floor(rand() * (r[1] - r[0] + 1)));
        }
        docs.push(s);
    }
    writeLines(out, docs);
}

async function encode(npmDir, tokPath, corpusPath, out, addSpecial) {
    const { Tokenizer } = require(path.resolve(npmDir, 'node_modules/@anush008/tokenizers'));
    const tok = Tokenizer.fromFile(tokPath);
    const docs = lines(corpusPath), ids = [];
    let roundTrip = 0;
    for (let i = 0; i < docs.length; i += 64) {
        const batch = await tok.encodeBatch(docs.slice(i, i + 64), { addSpecialTokens: addSpecial });
        const batchIds = batch.map((e) => e.getIds());
        ids.push(...batchIds);
        const texts = await tok.decodeBatch(batchIds, true);
        texts.forEach((t, k) => { if (t === docs[i + k]) roundTrip++; });
    }
    writeLines(out, ids);
    if (roundTrip !== docs.length) {
        console.log(`reference round trip: only ${roundTrip}/${docs.length} documents decode back`);
        process.exit(1);
    }
}

function compare(name, corpusPath, wantPath, gotPath) {
    const docs = lines(corpusPath), want = lines(wantPath), got = lines(gotPath);
    let ids = 0, same = 0, docsSame = 0, shown = 0;
    for (let i = 0; i < docs.length; i++) {
        const a = want[i] || [], b = got[i] || [];
        ids += a.length;
        let first = -1;
        for (let k = 0; k < a.length; k++) {
            if (a[k] === b[k]) same++;
            else if (first < 0) first = k;
        }
        if (a.length === b.length && first < 0) docsSame++;
        else if (shown++ < 5) {
            const k = first < 0 ? Math.min(a.length, b.length) : first;
            console.log(`  doc ${i}: ids differ at ${k} (len ${a.length} vs ${b.length}): want ${JSON.stringify(a.slice(k, k + 4))} got ${JSON.stringify(b.slice(k, k + 4))}`);
        }
    }
    console.log(`${name}: ${docs.length} docs, ${ids} ids compared, ${same} identical, ${docsSame}/${docs.length} docs identical`);
    process.exit(docsSame === docs.length && same === ids && got.length === want.length ? 0 : 1);
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'corpus') corpus(...args);
else if (mode === 'encode') encode(args[0], args[1], args[2], args[3], args[4] === '1').catch((e) => { console.error(e); process.exit(1); });
else if (mode === 'compare') compare(...args);
else { console.error('usage: train_vocab_check.js corpus|encode|compare ...'); process.exit(2); }
