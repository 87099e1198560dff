using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Html;

namespace CvNotebooks.Display;

/// A piece of HTML that a notebook shows as it is: what Show.Image, Show.Grid and Show.Images return.
///
/// It is an IHtmlContent, which the Formatting API already writes raw as text/html, and ImageFormatters also
/// registers it explicitly, so it displays the same in VS Code and in cvnb whether it is the cell's last value
/// or passed to display(). ToString() gives a one-line description (what the value shows as text).
public sealed class HtmlView : IHtmlContent
{
    public HtmlView(string html, string description)
    {
        Html = html ?? throw new ArgumentNullException(nameof(html));
        Description = description ?? "";
    }

    /// The HTML written to the notebook's text/html output.
    public string Html { get; }

    /// What the view shows, in words (shape, dtype, titles).
    public string Description { get; }

    public void WriteTo(TextWriter writer, HtmlEncoder encoder) => writer.Write(Html);

    public override string ToString() => Description;
}
