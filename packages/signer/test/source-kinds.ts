// The source kinds `upload` accepts, each endless (1 MiB chunks for ever) and each with a check
// that the upload closed it: `return()` on a generator (its finally ran if it had started),
// `return()` on a plain iterator (exactly once), the underlying source's `cancel()` for a web
// ReadableStream, `destroy()` and 'close' for a Node Readable. Endless, so only a close ends them.
import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import type { UploadSource } from '../src/index.ts'
import { deferred } from './fault/helpers.ts'

const MiB = 1024 * 1024
const CHUNK = new Uint8Array(MiB)

/** A source kind: an endless source of 1 MiB chunks, and a check that the upload closed it. */
export interface SourceKind {
  readonly name: string
  make(): { readonly source: UploadSource; assertClosed(): Promise<void> }
}

/** What a generator kind's body reports: each pull, and that its finally ran. */
interface GeneratorState {
  pull(): Uint8Array
  finallyRan: boolean
}

/** A generator kind: closed means its finally ran (if it had started) and it yields no more. */
function generatorKind(name: string, endless: (state: GeneratorState) => Generator<Uint8Array> | AsyncGenerator<Uint8Array>): SourceKind {
  return {
    name,
    make() {
      let pulled = 0
      const state: GeneratorState = {
        pull: () => (pulled++, CHUNK),
        finallyRan: false,
      }
      const gen = endless(state)
      return {
        source: gen,
        async assertClosed() {
          assert.equal(state.finallyRan, pulled > 0, 'its finally ran (if it had started)')
          // An open generator would yield again: done means return() reached it.
          assert.deepEqual(await gen.next(), { done: true, value: undefined }, 'return() closed the generator')
        },
      }
    },
  }
}

export const SOURCE_KINDS: readonly SourceKind[] = [
  generatorKind('async generator', async function* (state) {
    try {
      for (;;) yield state.pull()
    } finally {
      state.finallyRan = true
    }
  }),
  generatorKind('sync generator', function* (state) {
    try {
      for (;;) yield state.pull()
    } finally {
      state.finallyRan = true
    }
  }),
  {
    name: 'sync iterable with return()',
    make() {
      let returns = 0
      const source: Iterable<Uint8Array> = {
        [Symbol.iterator]: () => ({
          next: () => ({ done: false, value: CHUNK }),
          return: () => {
            returns++
            return { done: true, value: undefined }
          },
        }),
      }
      return { source, assertClosed: async () => assert.equal(returns, 1, 'return() was called exactly once') }
    },
  },
  {
    name: 'web ReadableStream',
    make() {
      let cancels = 0
      const source = new ReadableStream<Uint8Array>({
        pull(controller) {
          controller.enqueue(CHUNK)
        },
        cancel() {
          cancels++
        },
      })
      return { source, assertClosed: async () => assert.equal(cancels, 1, "the underlying source's cancel() ran") }
    },
  },
  {
    // What the DOM lib's types describe (no "dom.asynciterable"), and a runtime or polyfill without
    // async iteration: read (and cancelled) through getReader() all the same.
    name: 'web ReadableStream without Symbol.asyncIterator',
    make() {
      let cancels = 0
      const source = new ReadableStream<Uint8Array>({
        pull(controller) {
          controller.enqueue(CHUNK)
        },
        cancel() {
          cancels++
        },
      })
      Object.defineProperty(source, Symbol.asyncIterator, { value: undefined })
      return { source, assertClosed: async () => assert.equal(cancels, 1, "the underlying source's cancel() ran") }
    },
  },
  {
    name: 'Node Readable',
    make() {
      const source = new Readable({
        read() {
          this.push(CHUNK)
        },
      })
      const closed = deferred()
      source.once('close', () => closed.resolve())
      return {
        source,
        async assertClosed() {
          assert.equal(source.destroyed, true, 'the Readable was destroyed')
          await closed.promise // and emitted 'close' (a hang here fails the test on its timeout)
        },
      }
    },
  },
]

