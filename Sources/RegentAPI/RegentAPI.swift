// The generated types, server and client live in this target; this file keeps SwiftPM from skipping it.
