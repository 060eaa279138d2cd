/**
 * Generated pipeline documents parsed once per process: the program's schema checks (schema-checks.ts), the
 * stored-upload brief (stored-upload.ts) and the policy pack (policy/) all read the same YAML texts, each several
 * times, and parsing YAML was most of a large plan's time. Each reader asks here instead of calling `yaml` itself.
 *
 * The memo is keyed by the exact text, and what it hands out is deep-frozen plain data, so a reader can neither see
 * another text's documents nor change what the next reader gets: two plans in one process (the tests run that way)
 * share an entry only when their texts are equal, and then the parse is the same. It holds at most
 * {@link MEMO_TEXT_BUDGET} characters of text, dropping the least recently used entries beyond that.
 *
 * The step renderers (step-model.ts) hand the memo the value they serialised, keyed by the text they wrote
 * ({@link seedYamlValue}), so the texts the program generates are never parsed back at all: `yaml`'s `stringify`
 * writes a text that its parser reads back as the same plain data (a property test/steps/parsed-yaml.test.ts checks
 * over every text the prod, KMS and synthetic organisations generate), and the memo copies the value, deep-frozen,
 * as `toJS` would have given it. A value that is not plain JSON-like data is not seeded (that text is parsed when
 * read).
 *
 * Pure module apart from the memo (a function of its key).
 *
 * @module
 */
import { parse, parseAllDocuments, parseDocument } from "yaml";

/** One document of a YAML stream, parsed. */
export interface ParsedYamlDocument {
    /** The first error's message when the document is not valid YAML (as `yaml` words it), else undefined. */
    readonly error?: string;
    /**
     * The document as plain data, deep-frozen (`Document.toJS()`); undefined when {@link error} is set. Reading it
     * throws what `toJS` threw (e.g. too many aliases), as the reader that converted it itself would have.
     */
    readonly value: unknown;
}

/** What one text parses to: its documents, and whether `yaml` warned about any (warnings are logged by `parse`). */
interface Entry {
    readonly documents: readonly ParsedYamlDocument[];
    readonly warned: boolean;
    /** Whether the entry came from {@link YamlMemo.seed} (one document, the renderer's value) rather than a parse. */
    readonly seeded?: true;
}

/**
 * How much text (in characters, summed over the keys) the memo keeps: enough for every document of a
 * 1,000-pipeline organisation (about 20 M characters), bounded so that a long process (the test run) does not grow
 * without limit.
 */
export const MEMO_TEXT_BUDGET = 48 * 1024 * 1024;

/** Freezes plain data (see {@link isPlainData}) and everything it holds (aliases may share objects: frozen once). */
function deepFreeze(value: unknown): void {
    if (value === null || typeof value !== "object" || Object.isFrozen(value)) return;
    Object.freeze(value);
    for (const item of Array.isArray(value) ? value : Object.values(value)) deepFreeze(item);
}

/**
 * Whether `value` holds only arrays, plain objects and primitives: what freezing makes immutable. `toJS` also gives a
 * Uint8Array for `!!binary`, a Map for `!!omap`/`!!map` with non-string keys, a Set for `!!set` (yaml 2.x tags), which
 * freezing cannot make immutable (or, for a typed array, refuses).
 */
function isPlainData(value: unknown, seen = new Set<object>()): boolean {
    if (value === null || typeof value !== "object") return true;
    if (seen.has(value)) return true;
    seen.add(value);
    if (Array.isArray(value)) return value.every((item) => isPlainData(item, seen));
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return false;
    return Object.values(value).every((item) => isPlainData(item, seen));
}

function parsedDocument(doc: ReturnType<typeof parseAllDocuments>[number]): ParsedYamlDocument {
    if (doc.errors.length > 0) return { error: doc.errors[0]?.message, value: undefined };
    let value: unknown;
    try {
        value = doc.toJS();
    } catch (thrown) {
        // Rethrown to the reader, as its own `toJS` call would have thrown.
        return {
            get value(): unknown {
                throw thrown;
            },
        };
    }
    // Data freezing cannot protect is not shared: each reader converts the document itself, as it did before the memo.
    if (!isPlainData(value))
        return {
            get value(): unknown {
                return doc.toJS();
            },
        };
    deepFreeze(value);
    return { value };
}

/** The readers of one memo (the process has one, {@link yamlStream} and its siblings; tests make their own). */
export interface YamlMemo {
    /** Every document of a YAML stream, as `parseAllDocuments(text)` gives them (none for an empty text). */
    stream(text: string): readonly ParsedYamlDocument[];
    /**
     * The text as one document, as `parseDocument(text)` reads it: a stream of several documents is an error (the
     * first document's own errors first). Only the one-document case is memoised; `yaml` words the others itself.
     */
    document(text: string): ParsedYamlDocument;
    /** The value `yaml`'s `parse(text)` returns; throws its first error when the text is not one valid document. */
    value(text: string): unknown;
    /**
     * Records that `text` is what `yaml`'s `stringify(value)` wrote, so reading the text gives a deep-frozen copy of
     * `value` without parsing it. Ignored when the memo holds the text already, or when `value` is not plain data
     * (see {@link plainCopy}).
     */
    seed(text: string, value: unknown): void;
    /** The documents the memo holds for `text`, without parsing it or changing the eviction order (diagnostics). */
    held(text: string): readonly ParsedYamlDocument[] | undefined;
    /** The (deep-frozen) value seeded under `text`, when the memo holds one from {@link seed}, else undefined. */
    seededValue(text: string): { readonly value: unknown } | undefined;
    /** How many texts the memo holds and their characters. */
    size(): { readonly texts: number; readonly chars: number };
}

/** Marks a value {@link plainCopy} cannot copy as `toJS` would read it back. */
const NOT_PLAIN = Symbol("not plain data");

/**
 * A deep copy of `value` as `parse(stringify(value))` gives it, or {@link NOT_PLAIN}. Object members whose value is
 * undefined are left out, as `stringify` leaves them out (yaml 2.9.1 dist/nodes/YAMLMap.js `from`: a pair is added
 * only when `value !== undefined || keepUndefined`, false by default). Anything else outside strings, booleans,
 * finite numbers other than -0, null, arrays and plain objects (undefined in an array, -0, NaN, bigint, a Date, a
 * Map, a class instance, a `__proto__` key, a cycle) is refused rather than reasoned about: such a text is parsed.
 * Objects held twice are copied twice (`stringify` writes an alias, `toJS` shares the object: equal data).
 */
function plainCopy(value: unknown, ancestors: Set<object>): unknown {
    switch (typeof value) {
        case "string":
        case "boolean":
            return value;
        case "number":
            return Number.isFinite(value) && !Object.is(value, -0) ? value : NOT_PLAIN;
        case "object":
            break;
        default:
            return NOT_PLAIN;
    }
    if (value === null) return null;
    if (ancestors.has(value)) return NOT_PLAIN;
    ancestors.add(value);
    try {
        if (Array.isArray(value)) {
            const out: unknown[] = [];
            for (const item of value as unknown[]) {
                if (item === undefined) return NOT_PLAIN;
                const copied = plainCopy(item, ancestors);
                if (copied === NOT_PLAIN) return NOT_PLAIN;
                out.push(copied);
            }
            return out;
        }
        const proto: unknown = Object.getPrototypeOf(value);
        if (proto !== Object.prototype && proto !== null) return NOT_PLAIN;
        const out: Record<string, unknown> = {};
        for (const key of Object.keys(value)) {
            if (key === "__proto__") return NOT_PLAIN;
            const member = (value as Record<string, unknown>)[key];
            if (member === undefined) continue;
            const copied = plainCopy(member, ancestors);
            if (copied === NOT_PLAIN) return NOT_PLAIN;
            out[key] = copied;
        }
        return out;
    } finally {
        ancestors.delete(value);
    }
}

/** A memo that keeps at most `budget` characters of text, dropping the least recently used texts beyond that. */
export function createYamlMemo(budget: number): YamlMemo {
    const memo = new Map<string, Entry>();
    let chars = 0;
    const entryOf = (text: string): Entry => {
        const cached = memo.get(text);
        if (cached !== undefined) {
            // Most recently used last: the Map's order is the eviction order.
            memo.delete(text);
            memo.set(text, cached);
            return cached;
        }
        const docs = parseAllDocuments(text);
        const entry: Entry = {
            documents: Object.freeze(docs.map(parsedDocument)),
            warned: docs.some((d) => d.warnings.length > 0),
        };
        store(text, entry);
        return entry;
    };
    const store = (text: string, entry: Entry): void => {
        if (text.length > budget) return;
        memo.set(text, entry);
        chars += text.length;
        for (const [key] of memo) {
            if (chars <= budget) break;
            memo.delete(key);
            chars -= key.length;
        }
    };
    return {
        stream: (text) => entryOf(text).documents,
        document(text) {
            const { documents } = entryOf(text);
            return documents.length === 1 ? documents[0] : parsedDocument(parseDocument(text));
        },
        value(text) {
            const entry = entryOf(text);
            // `parse` throws the error object itself and logs warnings: texts that are not one clean document go to it.
            if (entry.documents.length !== 1 || entry.documents[0].error !== undefined || entry.warned) {
                const value: unknown = parse(text);
                if (isPlainData(value)) deepFreeze(value);
                return value;
            }
            return entry.documents[0].value;
        },
        seed(text, value) {
            if (memo.has(text)) return;
            const copied = plainCopy(value, new Set());
            // A value `stringify` writes as an empty text (none of ours) would read back as no document at all.
            if (copied === NOT_PLAIN || copied === null || text === "") return;
            deepFreeze(copied);
            store(text, { documents: Object.freeze([Object.freeze({ value: copied })]), warned: false, seeded: true });
        },
        held: (text) => memo.get(text)?.documents,
        seededValue(text) {
            const entry = memo.get(text);
            return entry?.seeded === true ? { value: entry.documents[0].value } : undefined;
        },
        size: () => ({ texts: memo.size, chars }),
    };
}

const processMemo = createYamlMemo(MEMO_TEXT_BUDGET);

/** Every document of a YAML stream, as `parseAllDocuments(text)` gives them, from the process's memo. */
export const yamlStream = (text: string): readonly ParsedYamlDocument[] => processMemo.stream(text);

/** The text as one document, as `parseDocument(text)` reads it, from the process's memo ({@link YamlMemo.document}). */
export const yamlDocument = (text: string): ParsedYamlDocument => processMemo.document(text);

/** The value `parse(text)` returns (throwing what it throws), from the process's memo. */
export const yamlValue = (text: string): unknown => processMemo.value(text);

/** Tells the process's memo that `text` is `stringify(value)` ({@link YamlMemo.seed}): the step renderers call it. */
export const seedYamlValue = (text: string, value: unknown): void => processMemo.seed(text, value);

/** The value the process's memo holds for `text` from a renderer ({@link YamlMemo.seededValue}). */
export const seededYamlValue = (text: string): { readonly value: unknown } | undefined => processMemo.seededValue(text);

/** The documents the process's memo holds for `text`, without parsing it ({@link YamlMemo.held}). */
export const heldYaml = (text: string): readonly ParsedYamlDocument[] | undefined => processMemo.held(text);
