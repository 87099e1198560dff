using CvNotebooks.Runner.Cli;
using CvNotebooks.Runner.Kernel;

if (args.Length > 0 && args[0] == "worker")
    return await WorkerHost.RunAsync();
return await Commands.MainAsync(args);
