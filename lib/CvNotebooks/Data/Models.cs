using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using OpenCvSharp;
using OpenCvSharp.Dnn;

namespace CvNotebooks.Data;

/// One detection in the coordinates of the image given: a box, a score, a label and, for some models,
/// key points (BlazeFace: right eye, left eye, nose, mouth, right ear, left ear; text: the 4 corners).
public sealed record Detection(Rect2f Box, float Score, string Label, IReadOnlyList<Point2f>? KeyPoints = null)
{
    public override string ToString() => $"{Label} {Score:F2} at ({Box.X:F0},{Box.Y:F0}) {Box.Width:F0}x{Box.Height:F0}";
}

/// Pretrained models from the catalog, each returned ready to run with its labels and the preprocessing its
/// authors document (see datasets/catalog.json, "model"). Dispose them when done (they hold native sessions).
public static class Models
{
    /// Session options for ONNX Runtime: warnings about unused initializers silenced, CPU.
    public static SessionOptions SessionOptions()
    {
        var options = new SessionOptions
        {
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        return options;
    }

    internal static InferenceSession Session(string dataset, string file)
    {
        var path = Catalog.Default.File(dataset, file);
        using var options = SessionOptions();
        try
        {
            return new InferenceSession(path, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidDataException($"ONNX Runtime could not load {path} ({e.Message}); the file may be corrupt: {Catalog.FixFor(Catalog.Default.Dataset(dataset))}.", e);
        }
    }

    /// MediaPipe BlazeFace (front camera, 128x128 input, faces within about 2 m) or the back-camera model (256x256, smaller faces).
    public static BlazeFaceDetector BlazeFace(bool backModel = false) => new(backModel);

    /// An OpenCV cascade from opencv-data, e.g. "haarcascade_frontalface_default.xml", "haarcascade_eye.xml", "lbpcascade_frontalface_improved.xml".
    public static CascadeDetector Cascade(string file, string label) => new(file, label);

    /// Viola-Jones frontal faces (haarcascade_frontalface_default.xml).
    public static CascadeDetector HaarFaces() => Cascade("haarcascade_frontalface_default.xml", "face");

    /// OpenCV's built-in HOG + linear SVM people detector (no file).
    public static HogPeopleDetector HogPeople() => new();

    /// PaddleOCR PP-OCRv4 text detector (DB): boxes around lines of text.
    public static TextDetector TextDetector() => new();

    /// PaddleOCR PP-OCRv4 text-line recogniser (Chinese and English characters, digits, punctuation).
    public static TextRecognizer TextRecognizer() => new();

    /// PaddleOCR's text-direction classifier: is a line of text upright ("0") or upside down ("180")?
    public static TextDirectionClassifier TextDirection() => new();

    /// ResNet-18 trained on ImageNet, headless: 512 features per image, for similarity and transfer learning.
    public static ResNet18Features ResNet18Features() => new();

    internal static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));

    internal static float IoU(Rect2f a, Rect2f b)
    {
        var x1 = Math.Max(a.Left, b.Left);
        var y1 = Math.Max(a.Top, b.Top);
        var x2 = Math.Min(a.Right, b.Right);
        var y2 = Math.Min(a.Bottom, b.Bottom);
        var inter = Math.Max(0, x2 - x1) * Math.Max(0, y2 - y1);
        var union = a.Width * a.Height + b.Width * b.Height - inter;
        return union <= 0 ? 0 : inter / union;
    }

    /// Non-maximum suppression; with weighted, overlapping boxes are averaged by score (MediaPipe's blending).
    internal static List<Detection> Suppress(IEnumerable<Detection> detections, float iou, bool weighted)
    {
        var rest = detections.OrderByDescending(d => d.Score).ToList();
        var kept = new List<Detection>();
        while (rest.Count > 0)
        {
            var top = rest[0];
            var cluster = rest.Where(d => IoU(d.Box, top.Box) > iou).ToList();
            rest = rest.Except(cluster).ToList();
            if (!weighted || cluster.Count == 1) { kept.Add(top); continue; }
            var total = cluster.Sum(d => d.Score);
            float Avg(Func<Detection, float> f) => cluster.Sum(d => f(d) * d.Score) / total;
            var box = new Rect2f(Avg(d => d.Box.X), Avg(d => d.Box.Y), Avg(d => d.Box.Width), Avg(d => d.Box.Height));
            IReadOnlyList<Point2f>? points = null;
            if (top.KeyPoints is { } kp)
                points = Enumerable.Range(0, kp.Count).Select(i => new Point2f(Avg(d => d.KeyPoints![i].X), Avg(d => d.KeyPoints![i].Y))).ToList();
            kept.Add(top with { Box = box, KeyPoints = points });
        }
        return kept;
    }

    /// Copies a continuous float Mat's data.
    internal static float[] Floats(Mat mat)
    {
        if (!mat.IsContinuous()) throw new ArgumentException("the Mat must be continuous", nameof(mat));
        var n = checked((int)(mat.Total() * mat.Channels()));
        var data = new float[n];
        Marshal.Copy(mat.Data, data, 0, n);
        return data;
    }

    internal static Mat EnsureBgr(Mat image)
    {
        if (image.Empty()) throw new ArgumentException("the image is empty", nameof(image));
        if (image.Depth() != MatType.CV_8U) throw new ArgumentException($"expected an 8-bit image; got {image.Type()}", nameof(image));
        var bgr = new Mat();
        switch (image.Channels())
        {
            case 1: Cv2.CvtColor(image, bgr, ColorConversionCodes.GRAY2BGR); break;
            case 4: Cv2.CvtColor(image, bgr, ColorConversionCodes.BGRA2BGR); break;
            default: image.CopyTo(bgr); break;
        }
        return bgr;
    }
}

/// MediaPipe BlazeFace on ONNX Runtime. Input "input:0" (1,S,S,3) NHWC float RGB in [-1,1], S = 128 (front) or 256 (back);
/// outputs two score tensors (16x16 cells x 2 anchors and 8x8 x 6, for both models) and their boxes with 6 key points.
public sealed class BlazeFaceDetector : IDisposable
{
    public InferenceSession Session { get; }
    public int InputSize { get; }
    public IReadOnlyList<string> Labels { get; } = ["face"];
    public static readonly IReadOnlyList<string> KeyPointNames = ["right eye", "left eye", "nose", "mouth", "right ear", "left ear"];

    internal BlazeFaceDetector(bool back)
    {
        InputSize = back ? 256 : 128;
        Session = Models.Session("blazeface", back ? "face_detection_back_256x256.onnx" : "face_detection_front_128x128.onnx");
    }

    /// Faces in an 8-bit BGR (or gray) image, in its pixel coordinates. The image is letterboxed to the square input.
    public List<Detection> Detect(Mat image, float minScore = 0.5f, float iou = 0.3f)
    {
        using var bgr = Models.EnsureBgr(image);
        var s = InputSize;
        var scale = (float)s / Math.Max(bgr.Width, bgr.Height);
        int w = Math.Max(1, (int)Math.Round(bgr.Width * scale)), h = Math.Max(1, (int)Math.Round(bgr.Height * scale));
        int padX = (s - w) / 2, padY = (s - h) / 2;
        using var resized = new Mat();
        Cv2.Resize(bgr, resized, new Size(w, h), 0, 0, InterpolationFlags.Area);
        using var square = new Mat(s, s, MatType.CV_8UC3, Scalar.Black);
        resized.CopyTo(square[new Rect(padX, padY, w, h)]);
        using var rgb = new Mat();
        Cv2.CvtColor(square, rgb, ColorConversionCodes.BGR2RGB);
        using var input = new Mat();
        rgb.ConvertTo(input, MatType.CV_32FC3, 2.0 / 255.0, -1.0);   // [0,255] -> [-1,1]

        var tensor = new DenseTensor<float>(Models.Floats(input), [1, s, s, 3]);
        using var results = Session.Run([NamedOnnxValue.CreateFromTensor("input:0", tensor)]);
        var outputs = results.ToDictionary(r => r.Name, r => r.AsTensor<float>().ToArray());

        var found = new List<Detection>();
        // Both models have 16x16 cells with 2 anchors and 8x8 cells with 6 (strides 8 and 16 at 128, 16 and 32 at 256).
        Decode(outputs["Identity:0"], outputs["Identity_2:0"], 2);
        Decode(outputs["Identity_1:0"], outputs["Identity_3:0"], 6);
        return Models.Suppress(found, iou, weighted: true);

        void Decode(float[] scores, float[] boxes, int anchors)
        {
            var cells = (int)Math.Round(Math.Sqrt(scores.Length / anchors));
            for (var i = 0; i < scores.Length; i++)
            {
                var score = Models.Sigmoid(Math.Clamp(scores[i], -100f, 100f));
                if (score < minScore) continue;
                var cell = i / anchors;
                float ax = (cell % cells + 0.5f) / cells * s, ay = (cell / cells + 0.5f) / cells * s;
                var b = i * 16;
                // Back to the original image: undo the letterbox padding and the scale.
                Point2f Map(float x, float y) => new((x - padX) / scale, (y - padY) / scale);
                var centre = Map(ax + boxes[b], ay + boxes[b + 1]);
                float bw = boxes[b + 2] / scale, bh = boxes[b + 3] / scale;
                var points = Enumerable.Range(0, 6).Select(k => Map(ax + boxes[b + 4 + 2 * k], ay + boxes[b + 5 + 2 * k])).ToList();
                found.Add(new Detection(new Rect2f(centre.X - bw / 2, centre.Y - bh / 2, bw, bh), score, "face", points));
            }
        }
    }

    public void Dispose() => Session.Dispose();
}

/// An OpenCV Haar or LBP cascade (opencv-data), on a histogram-equalised gray copy of the image.
public sealed class CascadeDetector : IDisposable
{
    public CascadeClassifier Classifier { get; }
    public string Label { get; }
    public IReadOnlyList<string> Labels => [Label];

    internal CascadeDetector(string file, string label)
    {
        var path = Catalog.Default.File("opencv-cascades", file);
        Classifier = new CascadeClassifier(path);
        if (Classifier.Empty())
        {
            Classifier.Dispose();
            throw new InvalidDataException($"OpenCV could not load the cascade {path} (corrupt?): {Catalog.FixFor(Catalog.Default.Dataset("opencv-cascades"))}.");
        }
        Label = label;
    }

    public List<Detection> Detect(Mat image, double scaleFactor = 1.1, int minNeighbors = 4, int minSize = 24)
    {
        using var gray = new Mat();
        if (image.Channels() == 1) image.CopyTo(gray); else Cv2.CvtColor(image, gray, image.Channels() == 4 ? ColorConversionCodes.BGRA2GRAY : ColorConversionCodes.BGR2GRAY);
        Cv2.EqualizeHist(gray, gray);
        var rects = Classifier.DetectMultiScale(gray, out _, out var weights, scaleFactor, minNeighbors, HaarDetectionTypes.ScaleImage, new Size(minSize, minSize), default, outputRejectLevels: true);
        return rects.Select((r, i) => new Detection(new Rect2f(r.X, r.Y, r.Width, r.Height), (float)weights[i], Label)).ToList();
    }

    public void Dispose() => Classifier.Dispose();
}

/// OpenCV's HOG people detector (Dalal and Triggs, 64x128 window). Small frames are upscaled first, since
/// people shorter than about 128 pixels are not found at the native scale.
public sealed class HogPeopleDetector : IDisposable
{
    public HOGDescriptor Hog { get; }
    public IReadOnlyList<string> Labels { get; } = ["person"];

    internal HogPeopleDetector()
    {
        Hog = new HOGDescriptor();
        Hog.SetSVMDetector(HOGDescriptor.GetDefaultPeopleDetector());
    }

    /// People in an image; upscale > 1 enlarges it first (boxes are mapped back). Scores are the SVM margins.
    public List<Detection> Detect(Mat image, double upscale = 1.0, double hitThreshold = 0, double scale = 1.05)
    {
        using var work = new Mat();
        if (upscale != 1.0) Cv2.Resize(image, work, default, upscale, upscale, InterpolationFlags.Linear); else image.CopyTo(work);
        var rects = Hog.DetectMultiScale(work, out double[] weights, hitThreshold, new Size(8, 8), new Size(16, 16), scale);
        var found = rects.Select((r, i) => new Detection(
            new Rect2f((float)(r.X / upscale), (float)(r.Y / upscale), (float)(r.Width / upscale), (float)(r.Height / upscale)),
            (float)weights[i], "person")).ToList();
        return Models.Suppress(found, 0.45f, weighted: false);
    }

    public void Dispose() => Hog.Dispose();
}

/// PaddleOCR PP-OCRv4 text detection (DB). Input "x" (1,3,H,W), H and W multiples of 32, BGR normalised with the
/// ImageNet mean/std; output "sigmoid_0.tmp_0" (1,1,H,W), the probability that a pixel is text.
public sealed class TextDetector : IDisposable
{
    public InferenceSession Session { get; }
    public IReadOnlyList<string> Labels { get; } = ["text"];

    internal TextDetector() => Session = Models.Session("paddleocr", "ch_PP-OCRv4_det_infer.onnx");

    /// The probability map (CV_32F, the size of the resized input) and the resize scale, for display.
    public (Mat Probability, double ScaleX, double ScaleY) Probability(Mat image, int maxSide = 960)
    {
        using var bgr = Models.EnsureBgr(image);
        var ratio = Math.Min(1.0, (double)maxSide / Math.Max(bgr.Width, bgr.Height));
        int w = Math.Max(32, (int)Math.Round(bgr.Width * ratio / 32) * 32), h = Math.Max(32, (int)Math.Round(bgr.Height * ratio / 32) * 32);
        using var resized = new Mat();
        Cv2.Resize(bgr, resized, new Size(w, h));
        using var f = new Mat();
        resized.ConvertTo(f, MatType.CV_32FC3, 1.0 / 255);
        Cv2.Subtract(f, new Scalar(0.485, 0.456, 0.406), f);
        Cv2.Divide(f, new Scalar(0.229, 0.224, 0.225), f);
        using var blob = CvDnn.BlobFromImage(f, 1.0, default, default, false, false);
        var input = new DenseTensor<float>(Models.Floats(blob), [1, 3, h, w]);
        using var results = Session.Run([NamedOnnxValue.CreateFromTensor("x", input)]);
        var prob = results.First().AsTensor<float>().ToArray();
        var map = new Mat(h, w, MatType.CV_32FC1);
        Marshal.Copy(prob, 0, map.Data, prob.Length);
        return (map, (double)bgr.Width / w, (double)bgr.Height / h);
    }

    /// Text regions as rotated rectangles (their 4 corners in KeyPoints) and axis-aligned boxes, top to bottom.
    public List<Detection> Detect(Mat image, float threshold = 0.3f, float boxThreshold = 0.6f, double unclipRatio = 1.5, int maxSide = 960)
    {
        var (prob, sx, sy) = Probability(image, maxSide);
        using (prob)
        {
            using var mask = new Mat();
            Cv2.Threshold(prob, mask, threshold, 255, ThresholdTypes.Binary);
            using var mask8 = new Mat();
            mask.ConvertTo(mask8, MatType.CV_8U);
            Cv2.FindContours(mask8, out var contours, out _, RetrievalModes.List, ContourApproximationModes.ApproxSimple);
            var found = new List<Detection>();
            foreach (var contour in contours)
            {
                if (contour.Length < 4) continue;
                var rect = Cv2.MinAreaRect(contour);
                if (Math.Min(rect.Size.Width, rect.Size.Height) < 3) continue;
                var bounds = Cv2.BoundingRect(contour) & new Rect(0, 0, prob.Width, prob.Height);
                using var regionMask = new Mat(bounds.Height, bounds.Width, MatType.CV_8UC1, Scalar.Black);
                Cv2.FillPoly(regionMask, [contour.Select(p => new Point(p.X - bounds.X, p.Y - bounds.Y)).ToArray()], Scalar.White);
                using var region = new Mat(prob, bounds);
                var score = (float)Cv2.Mean(region, regionMask).Val0;
                if (score < boxThreshold) continue;
                // DB's "unclip": grow the shrunk text kernel back by area * ratio / perimeter on every side.
                var (rw, rh) = (rect.Size.Width, rect.Size.Height);
                var d = (float)(rw * rh * unclipRatio / (2 * (rw + rh)));
                var grown = new RotatedRect(rect.Center, new Size2f(rw + 2 * d, rh + 2 * d), rect.Angle);
                if (Math.Min(grown.Size.Width, grown.Size.Height) < 5) continue;
                var corners = grown.Points().Select(p => new Point2f((float)(p.X * sx), (float)(p.Y * sy))).ToList();
                float x0 = corners.Min(p => p.X), y0 = corners.Min(p => p.Y), x1 = corners.Max(p => p.X), y1 = corners.Max(p => p.Y);
                x0 = Math.Max(0, x0); y0 = Math.Max(0, y0); x1 = Math.Min(image.Width, x1); y1 = Math.Min(image.Height, y1);
                found.Add(new Detection(new Rect2f(x0, y0, x1 - x0, y1 - y0), score, "text", corners));
            }
            return found.OrderBy(d => d.Box.Y).ThenBy(d => d.Box.X).ToList();
        }
    }

    public void Dispose() => Session.Dispose();
}

/// Shared preprocessing of PaddleOCR's line models: height 48, aspect kept, padded right with zeros, (x/255-0.5)/0.5, BGR.
internal static class PaddleLine
{
    /// One (N,3,48,W) batch: W is `fixedWidth`, or wide enough for the widest line (at least `minWidth`).
    public static DenseTensor<float> Input(IReadOnlyList<Mat> lines, int minWidth, int? fixedWidth)
    {
        var ratios = lines.Select(l => (double)l.Width / Math.Max(1, l.Height)).ToList();
        var canvas = fixedWidth ?? Math.Max(minWidth, (int)Math.Ceiling(48 * ratios.Max()));
        var data = new float[lines.Count * 3 * 48 * canvas];
        for (var i = 0; i < lines.Count; i++)
        {
            using var bgr = Models.EnsureBgr(lines[i]);
            var w = Math.Clamp((int)Math.Ceiling(48 * ratios[i]), 1, canvas);
            using var resized = new Mat();
            Cv2.Resize(bgr, resized, new Size(w, 48));
            using var f = new Mat();
            resized.ConvertTo(f, MatType.CV_32FC3, 2.0 / 255, -1.0);
            using var padded = new Mat(48, canvas, MatType.CV_32FC3, Scalar.All(0));
            f.CopyTo(padded[new Rect(0, 0, w, 48)]);
            using var blob = CvDnn.BlobFromImage(padded, 1.0, default, default, false, false);
            Models.Floats(blob).CopyTo(data, i * 3 * 48 * canvas);
        }
        return new DenseTensor<float>(data, [lines.Count, 3, 48, canvas]);
    }
}

/// PaddleOCR PP-OCRv4 recognition of one text line. Input "x" (1,3,48,W); output "softmax_11.tmp_0" (1,T,6625):
/// per time step, probabilities of CTC blank (0), the 6,623 characters of ppocr_keys_v1.txt (1..6623) and a space (6624).
public sealed class TextRecognizer : IDisposable
{
    public InferenceSession Session { get; }
    /// Index i is the character of class i; index 0 is the CTC blank ("").
    public IReadOnlyList<string> Labels { get; }

    internal TextRecognizer()
    {
        Session = Models.Session("paddleocr", "ch_PP-OCRv4_rec_infer.onnx");
        var keys = File.ReadAllLines(Catalog.Default.File("paddleocr", "ppocr_keys_v1.txt"));
        Labels = [string.Empty, .. keys, " "];
    }

    /// The text of a line image (a crop around one line) and the mean probability of its characters.
    public (string Text, float Confidence) Recognize(Mat line) => Recognize([line])[0];

    /// Several lines in batches of `batchSize` (lines of similar length batch best: each batch is padded to its widest line).
    public List<(string Text, float Confidence)> Recognize(IReadOnlyList<Mat> lines, int batchSize = 8)
    {
        var result = new List<(string, float)>(lines.Count);
        for (var start = 0; start < lines.Count; start += batchSize)
        {
            var batch = lines.Skip(start).Take(batchSize).ToList();
            var input = PaddleLine.Input(batch, 320, null);
            using var results = Session.Run([NamedOnnxValue.CreateFromTensor("x", input)]);
            var output = results.First().AsTensor<float>();
            int steps = output.Dimensions[1], classes = output.Dimensions[2];
            if (classes != Labels.Count) throw new InvalidDataException($"the recogniser has {classes} classes but the dictionary gives {Labels.Count}");
            for (var n = 0; n < batch.Count; n++) result.Add(Decode(output, n, steps, classes));
        }
        return result;
    }

    /// Greedy CTC: the best class per step, repeats merged, blanks dropped.
    private (string Text, float Confidence) Decode(Tensor<float> output, int n, int steps, int classes)
    {
        var text = new System.Text.StringBuilder();
        var probs = new List<float>();
        var previous = -1;
        for (var t = 0; t < steps; t++)
        {
            var best = 0;
            var bestP = output[n, t, 0];
            for (var c = 1; c < classes; c++)
                if (output[n, t, c] > bestP) { bestP = output[n, t, c]; best = c; }
            if (best != 0 && best != previous) { text.Append(Labels[best]); probs.Add(bestP); }
            previous = best;
        }
        return (text.ToString(), probs.Count == 0 ? 0f : probs.Average());
    }

    /// Detects and reads every line: (box, text, confidence), top to bottom. Reading costs about 1 s per long line
    /// (500 px of 12-pixel text) on 2 CPU cores: the recogniser is a small transformer over the line's width.
    public List<(Detection Box, string Text, float Confidence)> Read(Mat image, TextDetector detector)
    {
        var boxes = new List<Detection>();
        var crops = new List<Mat>();
        try
        {
            foreach (var d in detector.Detect(image))
            {
                var r = new Rect((int)d.Box.X, (int)d.Box.Y, (int)Math.Ceiling(d.Box.Width), (int)Math.Ceiling(d.Box.Height)) & new Rect(0, 0, image.Width, image.Height);
                if (r.Width < 2 || r.Height < 2) continue;
                boxes.Add(d);
                crops.Add(new Mat(image, r));
            }
            var texts = Recognize(crops);
            return boxes.Select((b, i) => (b, texts[i].Text, texts[i].Confidence)).ToList();
        }
        finally
        {
            foreach (var c in crops) c.Dispose();
        }
    }

    public void Dispose() => Session.Dispose();
}

/// PaddleOCR's text-direction classifier. Input "x" (1,3,48,192); output "softmax_0.tmp_0" (1,2) over ["0", "180"].
public sealed class TextDirectionClassifier : IDisposable
{
    public InferenceSession Session { get; }
    public IReadOnlyList<string> Labels { get; } = ["0", "180"];

    internal TextDirectionClassifier() => Session = Models.Session("paddleocr", "ch_ppocr_mobile_v2.0_cls_infer.onnx");

    /// The label ("0" upright, "180" upside down) and its probability for a crop of one line of text.
    public (string Label, float Probability) Classify(Mat line)
    {
        var input = PaddleLine.Input([line], 192, 192);
        using var results = Session.Run([NamedOnnxValue.CreateFromTensor("x", input)]);
        var p = results.First().AsTensor<float>().ToArray();
        return p[1] > p[0] ? (Labels[1], p[1]) : (Labels[0], p[0]);
    }

    public void Dispose() => Session.Dispose();
}

/// ResNet-18 (ImageNet) features from ML.NET's DnnImageFeaturizer: ResNetPreprocess.onnx ("OriginalInput" (1,3,224,224)
/// RGB 0..255 -> BGR minus the mean image) then ResNet18.onnx ("Input247" -> "Pooling395_Output_0" (1,512,1,1)).
/// There is no class head; Labels is empty.
public sealed class ResNet18Features : IDisposable
{
    public InferenceSession Preprocess { get; }
    public InferenceSession Session { get; }
    public IReadOnlyList<string> Labels { get; } = [];
    public const int Size = 224, Dimensions = 512;

    internal ResNet18Features()
    {
        Preprocess = Models.Session("resnet18-imagenet", "ResNetPreprocess.onnx");
        Session = Models.Session("resnet18-imagenet", "ResNet18.onnx");
    }

    /// The 512 features (after ReLU and global average pooling) of an 8-bit BGR image, resized to 224x224.
    public float[] Features(Mat image)
    {
        using var bgr = Models.EnsureBgr(image);
        using var blob = CvDnn.BlobFromImage(bgr, 1.0, new Size(Size, Size), default, swapRB: true, crop: false);   // RGB planes, 0..255
        var input = new DenseTensor<float>(Models.Floats(blob), [1, 3, Size, Size]);
        using var pre = Preprocess.Run([NamedOnnxValue.CreateFromTensor("OriginalInput", input)]);
        var prepared = pre.First().AsTensor<float>();
        using var results = Session.Run([NamedOnnxValue.CreateFromTensor("Input247", prepared)]);
        return results.First().AsTensor<float>().ToArray();
    }

    /// Cosine similarity of two feature vectors (1 = same direction).
    public static float Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
        return (float)(dot / (Math.Sqrt(na) * Math.Sqrt(nb) + 1e-12));
    }

    public void Dispose()
    {
        Preprocess.Dispose();
        Session.Dispose();
    }
}
