using CvNotebooks.Data;
using OpenCvSharp;
using Xunit;
using Xunit.Abstractions;

namespace CvNotebooks.Tests;

/// Every pretrained model of the catalog runs once on a real sample image and gives a sensible answer.
public class ModelTests(ITestOutputHelper output)
{
    /// A frame of Megamind.avi (OpenCV's sample clip): a frontal face fills the middle of the frame.
    private static Mat MegamindFrame(int index = 60) => Video.Frame("Megamind.avi", index);

    [Fact]
    public void BlazeFace_finds_the_face_in_a_video_frame_and_none_in_a_chessboard()
    {
        using var detector = Models.BlazeFace();
        Assert.Equal("input:0", detector.Session.InputMetadata.Keys.Single());
        Assert.Equal(new[] { 1, 128, 128, 3 }, detector.Session.InputMetadata["input:0"].Dimensions);
        using var frame = MegamindFrame();
        var faces = detector.Detect(frame);
        foreach (var f in faces) output.WriteLine(f.ToString());
        var face = Assert.Single(faces, f => f.Score > 0.7);
        // The face of the woman in the middle: around x 200..380, y 170..360 in the 720x528 frame.
        var c = new Point2f(face.Box.X + face.Box.Width / 2, face.Box.Y + face.Box.Height / 2);
        Assert.InRange(c.X, 220, 360);
        Assert.InRange(c.Y, 190, 340);
        Assert.InRange(face.Box.Width, 60, 260);
        Assert.Equal(6, face.KeyPoints!.Count);
        Assert.True(face.KeyPoints[0].X < face.KeyPoints[1].X, "the right eye is on the image's left");
        Assert.True(face.KeyPoints[2].Y > face.KeyPoints[0].Y, "the nose is below the eyes");

        using var board = Samples.Image("chessboard.png");
        Assert.DoesNotContain(detector.Detect(board), f => f.Score > 0.7);

        // The back-camera model (256x256, for smaller faces) finds the same face.
        using var back = Models.BlazeFace(backModel: true);
        var again = Assert.Single(back.Detect(frame), f => f.Score > 0.7);
        output.WriteLine($"back model: {again}");
        Assert.True(Models.IoU(again.Box, face.Box) > 0.5, $"front {face} and back {again} disagree");
    }

    [Fact]
    public void Haar_cascade_finds_the_same_face()
    {
        using var cascade = Models.HaarFaces();
        using var frame = MegamindFrame();
        var faces = cascade.Detect(frame, minSize: 60);
        foreach (var f in faces) output.WriteLine(f.ToString());
        Assert.Contains(faces, f => f.Box.X + f.Box.Width / 2 is > 220 and < 360 && f.Box.Y + f.Box.Height / 2 is > 190 and < 340);
        using var eyes = Models.Cascade("haarcascade_eye.xml", "eye");
        Assert.Equal("eye", eyes.Labels[0]);
    }

    [Fact]
    public void Hog_finds_people_in_a_vtest_frame()
    {
        using var hog = Models.HogPeople();
        using var frame = Video.Frame("vtest.avi", 100);
        var people = hog.Detect(frame);
        foreach (var p in people) output.WriteLine(p.ToString());
        Assert.NotEmpty(people);
        Assert.All(people, p =>
        {
            Assert.Equal("person", p.Label);
            Assert.InRange(p.Box.Height / p.Box.Width, 1.5, 2.5);    // upright, the 64x128 window's shape
        });
    }

    [Fact]
    public void PaddleOcr_detects_the_lines_of_a_text_page_and_reads_them()
    {
        using var page = Samples.Image("imageTextN.png");
        using var detector = Models.TextDetector();
        using var reader = Models.TextRecognizer();
        Assert.Equal(6625, reader.Labels.Count);
        var lines = detector.Detect(page);
        foreach (var line in lines) output.WriteLine(line.ToString());
        Assert.Equal(13, lines.Count);                               // the page has 13 lines of text
        Assert.All(lines, l => Assert.Equal(4, l.KeyPoints!.Count));
        Assert.All(lines, l => Assert.InRange(l.Box.Height, 8, 30));
        // Reading costs about 1 s per long line on 2 cores (the recogniser is a small transformer): read two.
        using var first = new Mat(page, Rect(lines[0].Box));
        using var last = new Mat(page, Rect(lines[^1].Box));
        var read = reader.Recognize([first, last]);
        foreach (var (text, confidence) in read) output.WriteLine($"{confidence:F2} {text}");
        Assert.Equal("technical details are too complex to cover in the book itself.", read[0].Text);
        Assert.Contains("three high-level approaches", read[1].Text);
        Assert.All(read, r => Assert.True(r.Confidence > 0.9));
    }

    private static Rect Rect(Rect2f box) => new((int)box.X, (int)box.Y, (int)Math.Ceiling(box.Width), (int)Math.Ceiling(box.Height));

    [Fact]
    public void Text_direction_classifier_tells_upright_from_upside_down()
    {
        using var page = Samples.Image("imageTextN.png");
        using var detector = Models.TextDetector();
        using var classifier = Models.TextDirection();
        Assert.Equal(new[] { "0", "180" }, classifier.Labels);
        using var line = new Mat(page, Rect(detector.Detect(page)[0].Box)).Clone();
        var (label, p) = classifier.Classify(line);
        Assert.Equal(("0", true), (label, p > 0.8));
        using var flipped = new Mat();
        Cv2.Rotate(line, flipped, RotateFlags.Rotate180);
        (label, p) = classifier.Classify(flipped);
        Assert.Equal(("180", true), (label, p > 0.8));
    }

    [Fact]
    public void ResNet18_features_place_a_photo_with_its_own_kind()
    {
        using var model = Models.ResNet18Features();
        Assert.Equal(new[] { 1, 512, 1, 1 }, model.Session.OutputMetadata["Pooling395_Output_0"].Dimensions);
        float[] F(string name)
        {
            using var image = Samples.Image(name);
            return model.Features(image);
        }
        var references = new Dictionary<string, string[]>
        {
            ["chessboard"] = ["left01.jpg", "left02.jpg", "left03.jpg"],
            ["fruit"] = ["fruits.jpg", "apple.jpg"],
            ["text page"] = ["imageTextN.png", "text_motion.jpg"],
        };
        var centroids = references.ToDictionary(kv => kv.Key, kv =>
        {
            var features = kv.Value.Select(F).ToList();
            return Enumerable.Range(0, ResNet18Features.Dimensions).Select(i => features.Average(f => f[i])).Select(v => (float)v).ToArray();
        });
        string Classify(string name)
        {
            var f = F(name);
            Assert.Equal(512, f.Length);
            Assert.All(f, v => Assert.True(v >= 0));                   // after ReLU and average pooling
            var scores = centroids.ToDictionary(kv => kv.Key, kv => ResNet18Features.Cosine(f, kv.Value));
            output.WriteLine($"{name}: {string.Join(", ", scores.Select(kv => $"{kv.Key} {kv.Value:F3}"))}");
            return scores.MaxBy(kv => kv.Value).Key;
        }
        Assert.Equal("chessboard", Classify("right07.jpg"));
        Assert.Equal("fruit", Classify("orange.jpg"));
        Assert.Equal("text page", Classify("text_defocus.jpg"));
    }
}
