-- One record per analysed photo: the tweet and media ids, and image_labels, the merged
-- Rekognition answers under the responses' own keys (a key is missing when its call was
-- not made: detect_text only for Text labels, detect_faces and recognize_celebrities
-- only for Person labels). local_faces holds the boxes [px] of our local face detector.
CREATE EXTERNAL TABLE IF NOT EXISTS media_rekognition (
  tweetid bigint,
  mediaid string,
  media_url string,
  image_name string,
  image_width int,
  image_height int,
  image_labels struct<
    Labels: array<struct<Name: string, Confidence: double, Parents: array<struct<Name: string>>>>,
    ModerationLabels: array<struct<Name: string, Confidence: double, ParentName: string>>,
    TextDetections: array<struct<
      DetectedText: string, Type: string, Id: int, ParentId: int, Confidence: double
    >>,
    FaceDetails: array<struct<
      BoundingBox: struct<Width: double, Height: double, Left: double, Top: double>,
      AgeRange: struct<Low: int, High: int>,
      Smile: struct<Value: boolean, Confidence: double>,
      Eyeglasses: struct<Value: boolean, Confidence: double>,
      Sunglasses: struct<Value: boolean, Confidence: double>,
      Gender: struct<Value: string, Confidence: double>,
      Beard: struct<Value: boolean, Confidence: double>,
      Mustache: struct<Value: boolean, Confidence: double>,
      EyesOpen: struct<Value: boolean, Confidence: double>,
      MouthOpen: struct<Value: boolean, Confidence: double>,
      Emotions: array<struct<Type: string, Confidence: double>>,
      Pose: struct<Roll: double, Yaw: double, Pitch: double>,
      Quality: struct<Brightness: double, Sharpness: double>,
      Confidence: double
    >>,
    CelebrityFaces: array<struct<
      Name: string, Id: string, MatchConfidence: double, Urls: array<string>,
      Face: struct<
        BoundingBox: struct<Width: double, Height: double, Left: double, Top: double>,
        Confidence: double
      >
    >>,
    UnrecognizedFaces: array<struct<
      BoundingBox: struct<Width: double, Height: double, Left: double, Top: double>,
      Confidence: double
    >>
  >,
  local_faces array<struct<x: int, y: int, w: int, h: int>>,
  face_detector string
)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
LOCATION '{location}'
