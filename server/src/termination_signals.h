// SIGTERM and SIGINT, received synchronously: the process blocks them in every thread and the
// main thread waits for one with sigwait, so no work ever happens in a signal handler.
#pragma once

namespace goethe::server {

// Blocks SIGTERM and SIGINT. Call first in main(), before any thread starts, so that every thread
// inherits the mask.
void BlockTerminationSignals();

// Waits for SIGTERM or SIGINT and returns its number.
int WaitForTerminationSignal();

// True when SIGTERM or SIGINT has arrived and waits to be taken by WaitForTerminationSignal: how
// work that runs before the wait (waiting for etcd at start) notices it should give up.
bool TerminationSignalPending();

}  // namespace goethe::server
