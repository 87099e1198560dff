using OpenCvSharp;

namespace CvNotebooks.Drawing;

/// Deterministic colours per class or track id, so class 3 (or person #17) has the same colour in every
/// picture, run and notebook. Ids 0..9 take the ten "tab10" colours (distinct, readable on photos); higher ids
/// step around the hue circle by the golden angle, so neighbouring ids never look alike. Negative ids use |id|.
public static class Palette
{
    // tab10, as (R,G,B).
    private static readonly (byte R, byte G, byte B)[] Base =
    [
        (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
        (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207),
    ];

    /// The colour of an id as an OpenCV Scalar in BGR order (what Cv2 drawing functions take).
    public static Scalar Color(int id)
    {
        var (r, g, b) = Rgb(id);
        return new Scalar(b, g, r);
    }

    /// The colour of an id as (R,G,B) bytes.
    public static (byte R, byte G, byte B) Rgb(int id)
    {
        var k = id == int.MinValue ? int.MaxValue : Math.Abs(id);
        if (k < Base.Length) return Base[k];
        var hue = (k * 0.6180339887498949) % 1.0;
        return FromHsv(hue, 0.75, 0.95);
    }

    /// "#1f77b4": the same colour for HTML and charts.
    public static string Hex(int id)
    {
        var (r, g, b) = Rgb(id);
        return $"#{r:x2}{g:x2}{b:x2}";
    }

    /// Black or white, whichever reads better on the id's colour (for label text).
    public static Scalar TextColorOn(int id)
    {
        var (r, g, b) = Rgb(id);
        var luma = 0.299 * r + 0.587 * g + 0.114 * b;
        return luma > 150 ? new Scalar(0, 0, 0) : new Scalar(255, 255, 255);
    }

    private static (byte, byte, byte) FromHsv(double h, double s, double v)
    {
        var i = (int)Math.Floor(h * 6) % 6;
        var f = h * 6 - Math.Floor(h * 6);
        double p = v * (1 - s), q = v * (1 - f * s), t = v * (1 - (1 - f) * s);
        var (r, g, b) = i switch
        {
            0 => (v, t, p),
            1 => (q, v, p),
            2 => (p, v, t),
            3 => (p, q, v),
            4 => (t, p, v),
            _ => (v, p, q),
        };
        return ((byte)Math.Round(r * 255), (byte)Math.Round(g * 255), (byte)Math.Round(b * 255));
    }
}
