using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Commands;
using Microsoft.DotNet.Interactive.Events;
using Microsoft.DotNet.Interactive.Formatting;

namespace CvNotebooks.Runner.Kernel;

/// `#!markdown` inside a code cell: Polyglot Notebooks shows the text as rendered markdown. The kernel package
/// has no markdown kernel of its own (the VS Code extension renders it), so the worker provides this one.
internal sealed class MarkdownKernel() : Microsoft.DotNet.Interactive.Kernel("markdown"), IKernelCommandHandler<SubmitCode>
{
    public Task HandleAsync(SubmitCode command, KernelInvocationContext context)
    {
        context.Publish(new DisplayedValueProduced(command.Code, command, [new FormattedValue("text/markdown", command.Code)]));
        return Task.CompletedTask;
    }
}
