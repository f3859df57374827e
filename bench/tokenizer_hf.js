// tokenizer_hf.js: single-threaded encode speed of Hugging Face tokenizers
// (Rust, through @anush008/tokenizers) on the same text as bench/tokenizer.c.
//   node tokenizer_hf.js NPM_DIR TOKENIZER_JSON TEXT_FILE [ROUNDS] [paragraphs]
// "paragraphs": each piece between blank lines encoded on its own, as bench/tokenizer.c.
'use strict';
const fs = require('fs');
const path = require('path');
const [npmDir, tokFile, textFile, roundsArg, mode] = process.argv.slice(2);
const { Tokenizer } = require(path.resolve(npmDir, 'node_modules/@anush008/tokenizers'));
(async () => {
    const text = fs.readFileSync(textFile, 'utf8');
    const bytes = Buffer.byteLength(text);
    const tok = Tokenizer.fromFile(tokFile);
    let best = Infinity, first = 0, n = 0;
    for (let r = 0; r < Number(roundsArg || 5); r++) {
        const t0 = process.hrtime.bigint();
        n = 0;
        for (const piece of mode === 'paragraphs' ? text.split('\n\n') : [text]) {
            const e = await tok.encode(piece, null, { addSpecialTokens: false });
            n += e.getLength();
        }
        const dt = Number(process.hrtime.bigint() - t0) / 1e9;
        if (r === 0) first = dt;
        if (dt < best) best = dt;
    }
    console.log(`hf ${(bytes / best / 1e6).toFixed(2)} MB/s (${bytes} bytes -> ${n} tokens, ${mode === 'paragraphs' ? 'paragraphs' : 'one string'}, best: ${best.toFixed(4)} s; first round ${(bytes / first / 1e6).toFixed(2)} MB/s)`);
})();
