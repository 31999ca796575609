//===- MPICommunicator.h - collectives between processes over Open MPI ----===//
//
// One rank per process under `mpirun`. Every call is non-blocking underneath
// and polled against its timeout; a call that expires prints which rank and
// call gave up and stops the whole run with MPI_Abort, so no rank waits
// forever. Reductions exchange chunks and reduce them in group order, so the
// results equal the in-process communicator's bit for bit.
//
//===----------------------------------------------------------------------===//

#ifndef DINFER_RUNTIME_MPICOMMUNICATOR_H
#define DINFER_RUNTIME_MPICOMMUNICATOR_H

#include "dinfer/Runtime/Communicator.h"

namespace dinfer {

/// Initialises MPI (thread level "funneled") if nobody has, and returns the
/// communicator of this process over MPI_COMM_WORLD. MPI is finalised when
/// the communicator is destroyed, if it initialised it.
llvm::Expected<std::unique_ptr<Communicator>> createMPICommunicator(int *argc, char ***argv);

/// Prints `message` with this rank's number and stops every rank of the run.
[[noreturn]] void abortMPIRun(const std::string &message);

} // namespace dinfer

#endif // DINFER_RUNTIME_MPICOMMUNICATOR_H
