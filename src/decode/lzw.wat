;; The compress (.Z) decoder's inner loop, in WebAssembly. LzwDecoder
;; (lzw.ts) holds the stream's state and every rare case (the header, the
;; first code, CLEAR, bad codes, the last bytes of an input chunk, a full
;; output buffer); this loop decodes the codes between, reading and writing
;; the decoder's own tables and window, which live in this module's memory
;; (layout: lzw-inner.ts). Why WebAssembly: the same loop in JavaScript pays
;; a bounds check on every table and window access; here the engine's guard
;; pages make them free, and strings up to 32 bytes move as two SIMD
;; words (see the top of lzw.ts for the measurements). Without SIMD or
;; the memory, lzw-inner.ts falls back to the JavaScript loop.
;;
;; Assembled into lzw-wasm.ts by scripts/lzw-wasm.mjs; test/lzw.test.ts
;; checks that the two agree.
(module
  (import "env" "memory" (memory 1))

  ;; State slots (i32, at byte 4 * index), read on entry; those marked * are
  ;; written back on return.
  ;;  0 bp*: bit position of the next code, from the start of the input area
  ;;  1 fast: a code starting before this bit is read with one 32-bit load
  ;;  2 op*: output position in the window
  ;;  3 fastEnd: an 8-byte copy fits at op while op <= fastEnd
  ;;  4 limit: output may not pass it (OUT_SIZE since the last take)
  ;;  5 nbits*  6 maxcode*  7 freeEnt*  8 oldcode*  9 prevStart*  10 prevLen*
  ;; 11 gStart*: bit where the current group sequence (this width) started
  ;; 12 skip*: bits the last group skip jumped over
  ;; 13 rel: the rec positions' offset of out[0]
  ;; 14 maxbits  15 maxmaxcode  16 clear (256, or -1 without block mode)
  ;; 17 rec: per code 8 bytes: the position of a copy of its string (i32),
  ;;    then its length and its prefix code (u16 each)
  ;; 18 suffix (a byte per code)  19 in (input area)  20 out (the window)
  ;; It returns at the end of the readable input, or at a code it leaves to
  ;; the caller, who decodes that code and calls again.

  (func $walk (param $code i32) (param $end i32) (param $rec i32) (param $suffix i32)
    (block $done
      (loop $back
        (br_if $done (i32.lt_u (local.get $code) (i32.const 256)))
        (local.set $end (i32.sub (local.get $end) (i32.const 1)))
        (i32.store8 (local.get $end) (i32.load8_u (i32.add (local.get $suffix) (local.get $code))))
        (local.set $code (i32.load16_u offset=6 (i32.add (local.get $rec) (i32.shl (local.get $code) (i32.const 3)))))
        (br $back)))
    (i32.store8 (i32.sub (local.get $end) (i32.const 1)) (local.get $code)))

  (func (export "run")
    (local $bp i32) (local $fast i32) (local $op i32) (local $fastEnd i32) (local $limit i32)
    (local $nbits i32) (local $mask i32) (local $maxcode i32) (local $freeEnt i32) (local $oldcode i32)
    (local $prevStart i32) (local $prevLen i32) (local $gStart i32) (local $skip i32) (local $rel i32)
    (local $maxbits i32) (local $maxmax i32) (local $clear i32)
    (local $rec i32) (local $suffix i32) (local $in i32) (local $out i32) (local $e i32) (local $v i64) (local $w v128)
    (local $code i32) (local $s i32) (local $len i32) (local $g i32) (local $r i32)

    (local.set $bp (i32.load (i32.const 0)))
    (local.set $fast (i32.load (i32.const 4)))
    (local.set $op (i32.load (i32.const 8)))
    (local.set $fastEnd (i32.load (i32.const 12)))
    (local.set $limit (i32.load (i32.const 16)))
    (local.set $nbits (i32.load (i32.const 20)))
    (local.set $maxcode (i32.load (i32.const 24)))
    (local.set $freeEnt (i32.load (i32.const 28)))
    (local.set $oldcode (i32.load (i32.const 32)))
    (local.set $prevStart (i32.load (i32.const 36)))
    (local.set $prevLen (i32.load (i32.const 40)))
    (local.set $gStart (i32.load (i32.const 44)))
    (local.set $skip (i32.load (i32.const 48)))
    (local.set $rel (i32.load (i32.const 52)))
    (local.set $maxbits (i32.load (i32.const 56)))
    (local.set $maxmax (i32.load (i32.const 60)))
    (local.set $clear (i32.load (i32.const 64)))
    (local.set $rec (i32.load (i32.const 68)))
    (local.set $suffix (i32.load (i32.const 72)))
    (local.set $in (i32.load (i32.const 76)))
    (local.set $out (i32.load (i32.const 80)))
    (local.set $mask (i32.sub (i32.shl (i32.const 1) (local.get $nbits)) (i32.const 1)))

    (block $exit
      (loop $next
        ;; The width grows: the encoder padded the group it was filling.
        (if (i32.gt_s (local.get $freeEnt) (local.get $maxcode))
          (then
            (local.set $g (i32.shl (local.get $nbits) (i32.const 3)))
            (local.set $r (i32.rem_s (i32.sub (local.get $bp) (local.get $gStart)) (local.get $g)))
            (local.set $skip (select (i32.sub (local.get $g) (local.get $r)) (i32.const 0) (local.get $r)))
            (local.set $bp (i32.add (local.get $bp) (local.get $skip)))
            (local.set $gStart (local.get $bp))
            (local.set $nbits (i32.add (local.get $nbits) (i32.const 1)))
            (local.set $mask (i32.sub (i32.shl (i32.const 1) (local.get $nbits)) (i32.const 1)))
            (local.set $maxcode
              (select (local.get $maxmax) (local.get $mask) (i32.eq (local.get $nbits) (local.get $maxbits))))))
        ;; Near the end of the input: the caller reads it.
        (br_if $exit (i32.ge_s (local.get $bp) (local.get $fast)))
        (local.set $code
          (i32.and
            (i32.shr_u
              (i32.load (i32.add (local.get $in) (i32.shr_u (local.get $bp) (i32.const 3))))
              (i32.and (local.get $bp) (i32.const 7)))
            (local.get $mask)))
        (block $emitted
          (if (i32.and (i32.lt_s (local.get $code) (local.get $freeEnt)) (i32.ne (local.get $code) (local.get $clear)))
            (then
              (local.set $v (i64.load (i32.add (local.get $rec) (i32.shl (local.get $code) (i32.const 3)))))
              (local.set $s (i32.sub (i32.wrap_i64 (local.get $v)) (local.get $rel)))
              (local.set $len (i32.and (i32.wrap_i64 (i64.shr_u (local.get $v) (i64.const 32))) (i32.const 0xffff)))
              ;; In the window, at most 8 bytes, room for 8: copy a fixed 8
              ;; bytes (those past len are overwritten by the next string).
              (if (i32.ge_s
                    (i32.or (i32.or (local.get $s) (i32.sub (i32.const 8) (local.get $len)))
                            (i32.sub (local.get $fastEnd) (local.get $op)))
                    (i32.const 0))
                (then
                  (i64.store (i32.add (local.get $out) (local.get $op))
                    (i64.load (i32.add (local.get $out) (local.get $s))))
                  (br $emitted)))
              ;; Up to 32 bytes in the window, room for 32: two 16-byte copies
              ;; (both loads first; the string ends before op).
              (if (i32.ge_s
                    (i32.or (i32.or (local.get $s) (i32.sub (i32.const 32) (local.get $len)))
                            (i32.sub (i32.sub (local.get $fastEnd) (i32.const 24)) (local.get $op)))
                    (i32.const 0))
                (then
                  (local.set $w (v128.load (i32.add (local.get $out) (local.get $s))))
                  (v128.store offset=16 (i32.add (local.get $out) (local.get $op))
                    (v128.load offset=16 (i32.add (local.get $out) (local.get $s))))
                  (v128.store (i32.add (local.get $out) (local.get $op)) (local.get $w))
                  (br $emitted)))
              ;; A longer string in the window, if it fits under the limit.
              (if (i32.and (i32.ge_s (local.get $s) (i32.const 0))
                           (i32.le_s (i32.add (local.get $op) (local.get $len)) (local.get $limit)))
                (then
                  (memory.copy (i32.add (local.get $out) (local.get $op)) (i32.add (local.get $out) (local.get $s)) (local.get $len))
                  (br $emitted)))
              ;; Slid out of the window: rebuild it from the prefix chain, and
              ;; re-home the entry (its next use is a copy from the window).
              (if (i32.le_s (i32.add (local.get $op) (local.get $len)) (local.get $limit))
                (then
                  (call $walk (local.get $code) (i32.add (i32.add (local.get $out) (local.get $op)) (local.get $len))
                    (local.get $rec) (local.get $suffix))
                  (i32.store (i32.add (local.get $rec) (i32.shl (local.get $code) (i32.const 3)))
                    (i32.add (local.get $rel) (local.get $op)))
                  (br $emitted)))
              ;; Past the limit: the caller.
              (br $exit)))
          ;; KwKwK: the code being defined, the previous string plus its own
          ;; first byte, when that string is in the window and fits.
          (if (i32.and (i32.eq (local.get $code) (local.get $freeEnt)) (i32.ne (local.get $code) (local.get $clear)))
            (then
              (local.set $len (i32.add (local.get $prevLen) (i32.const 1)))
              (local.set $s (i32.sub (local.get $prevStart) (local.get $rel)))
              (if (i32.le_s (i32.add (local.get $op) (local.get $len)) (local.get $limit))
                (then
                  (if (i32.ge_s (local.get $s) (i32.const 0))
                    (then
                      (memory.copy (i32.add (local.get $out) (local.get $op)) (i32.add (local.get $out) (local.get $s)) (local.get $prevLen)))
                    (else
                      (call $walk (local.get $oldcode) (i32.add (i32.add (local.get $out) (local.get $op)) (local.get $prevLen))
                        (local.get $rec) (local.get $suffix))))
                  (i32.store8 (i32.add (i32.add (local.get $out) (local.get $op)) (local.get $prevLen))
                    (i32.load8_u (i32.add (local.get $out) (local.get $op))))
                  (br $emitted)))))
          ;; CLEAR, a bad code, or a KwKwK past the limit: the caller.
          (br $exit))
        ;; The string is out: define the next entry, move on.
        (local.set $bp (i32.add (local.get $bp) (local.get $nbits)))
        (if (i32.lt_s (local.get $freeEnt) (local.get $maxmax))
          (then
            (local.set $e (i32.add (local.get $rec) (i32.shl (local.get $freeEnt) (i32.const 3))))
            (i32.store (local.get $e) (local.get $prevStart))
            (i32.store offset=4 (local.get $e)
              (i32.or (i32.add (local.get $prevLen) (i32.const 1)) (i32.shl (local.get $oldcode) (i32.const 16))))
            (i32.store8 (i32.add (local.get $suffix) (local.get $freeEnt))
              (i32.load8_u (i32.add (local.get $out) (local.get $op))))
            (local.set $freeEnt (i32.add (local.get $freeEnt) (i32.const 1)))))
        (local.set $prevStart (i32.add (local.get $rel) (local.get $op)))
        (local.set $prevLen (local.get $len))
        (local.set $op (i32.add (local.get $op) (local.get $len)))
        (local.set $oldcode (local.get $code))
        (br $next)))

    (i32.store (i32.const 0) (local.get $bp))
    (i32.store (i32.const 8) (local.get $op))
    (i32.store (i32.const 20) (local.get $nbits))
    (i32.store (i32.const 24) (local.get $maxcode))
    (i32.store (i32.const 28) (local.get $freeEnt))
    (i32.store (i32.const 32) (local.get $oldcode))
    (i32.store (i32.const 36) (local.get $prevStart))
    (i32.store (i32.const 40) (local.get $prevLen))
    (i32.store (i32.const 44) (local.get $gStart))
    (i32.store (i32.const 48) (local.get $skip)))
)
